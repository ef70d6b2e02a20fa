"""A threaded loopback HTTP server for the sandbox (stdlib wsgiref + ThreadingMixIn).

Besides serving, it does one thing wsgiref cannot: when the app raises
``DroppedConnection`` it closes the socket without writing a response, which is what a
client sees when a real connection dies after the server stored its data.
"""

import socket
import sys
import threading
from contextlib import contextmanager
from socketserver import ThreadingMixIn
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer

from .app import DroppedConnection


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64


class _Handler(ServerHandler):
    dropped = False

    def handle_error(self):
        if isinstance(sys.exc_info()[1], DroppedConnection):
            self.dropped = True
            return
        super().handle_error()


class QuietRequestHandler(WSGIRequestHandler):
    """Serves one request per connection and logs nothing (headers may hold tokens)."""

    def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
        pass

    def handle(self):
        self.raw_requestline = self.rfile.readline(65537)
        if len(self.raw_requestline) > 65536:
            self.send_error(414)
            return
        if not self.parse_request():
            return
        handler = _Handler(
            self.rfile, self.wfile, self.get_stderr(), self.get_environ(), multithread=True
        )
        handler.request_handler = self
        handler.run(self.server.get_app())
        if handler.dropped:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def make_server(app, host: str = "127.0.0.1", port: int = 0) -> ThreadingWSGIServer:
    server = ThreadingWSGIServer((host, port), QuietRequestHandler)
    server.set_app(app)
    return server


@contextmanager
def serve_in_thread(app, host: str = "127.0.0.1", port: int = 0):
    """Serve ``app`` in a background thread; yields the base URL (no trailing slash)."""
    server = make_server(app, host, port)
    thread = threading.Thread(target=server.serve_forever, name="xledger-sandbox", daemon=True)
    thread.start()
    try:
        bound_host, bound_port = server.server_address[:2]
        yield f"http://{bound_host}:{bound_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
