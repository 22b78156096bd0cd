"""A local HTTP server for the download tests (127.0.0.1, a thread: no test touches the internet), and archive
builders."""

import hashlib
import io
import sys
import tarfile
import threading
import time
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class FileServer:
    """Serves ``files`` ({path: bytes}) with HEAD, GET and byte ranges, logging each request in ``requests``
    ((method, path, Range header)). ``faults[path]`` changes one file's answers: ``status`` (an error code),
    ``drop_after`` (bytes sent per GET before the connection is closed), ``delay`` (seconds per ``chunk`` bytes sent),
    ``md5`` (a Content-MD5 header to state), ``body`` (bytes sent instead of the file, same headers)."""

    def __init__(self):
        self.files, self.faults, self.requests = {}, {}, []
        self.httpd = _QuietServer(("127.0.0.1", 0), _Handler)
        self.httpd.owner = self
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def url(self, path):
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/{path}"

    def gets(self, path):
        """The Range header of each GET of ``path`` (None: the whole file)."""
        return [r for method, p, r in self.requests if method == "GET" and p == path]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class _QuietServer(ThreadingHTTPServer):
    """Drops the traceback of a client that closes its connection mid-answer (the tests' clients do so on purpose:
    an interrupted download); any other handler error is still printed."""

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_HEAD(self):
        self.answer(head=True)

    def do_GET(self):
        self.answer(head=False)

    def answer(self, head):
        server = self.server.owner
        path = self.path.lstrip("/")
        server.requests.append((self.command, path, self.headers.get("Range")))
        fault = server.faults.get(path, {})
        if path not in server.files or "status" in fault:
            self.send_error(fault.get("status", 404))
            return
        data = server.files[path]
        body = fault.get("body", data)
        start = int(self.headers["Range"].split("=")[1].split("-")[0]) if self.headers.get("Range") else 0
        if start >= len(data) > 0:
            self.send_response(416)
            self.send_header("Content-Range", f"bytes */{len(data)}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(206 if start else 200)
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.send_header("Content-Length", str(len(data) - start))
        self.send_header("Accept-Ranges", "bytes")
        if "md5" in fault:
            self.send_header("Content-MD5", fault["md5"])
        self.end_headers()
        if head:
            return
        rest, chunk = body[start:], fault.get("chunk", 1 << 16)
        limit = fault.get("drop_after", len(rest))
        for i in range(0, min(limit, len(rest)), chunk):
            self.wfile.write(rest[i:min(i + chunk, limit)])
            time.sleep(fault.get("delay", 0))
        self.close_connection = True


@pytest.fixture
def server():
    """A :class:`FileServer`, stopped after the test."""
    s = FileServer()
    yield s
    s.close()


def md5(data):
    return hashlib.md5(data).hexdigest()


def tar_bz2(members):
    """A .tar.bz2 of ``members`` ({member path: bytes})."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:bz2") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def zip_of(members):
    """A .zip of ``members`` ({member path: bytes})."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return out.getvalue()


def tree_members(root, under=""):
    """Every file below folder ``root`` as {``under``/relative path: bytes} (an archive's members)."""
    return {f"{under}{p.relative_to(root).as_posix()}": p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
