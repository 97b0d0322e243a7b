"""A minimal kvx event-bus client for Python (standard library only).

It speaks Vert.x's TCP event-bus bridge protocol: each frame is a 4-byte big-endian length followed
by a UTF-8 JSON object. See docs/eventbus.md for the addresses and messages kvx accepts.
"""
import itertools
import json
import socket
import struct

_ids = itertools.count(1)


class BusError(Exception):
    """A failed request: the API server's Status (code, reason, message) or a bridge error."""

    def __init__(self, status):
        super().__init__(status.get("message", str(status)))
        self.status = status


class KvxBus:
    def __init__(self, host, port, token, timeout=30):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.headers = {"authorization": "Bearer " + token}
        self.pending = []  # frames read while waiting for something else

    def close(self):
        self.sock.close()

    def _send(self, frame):
        data = json.dumps(frame).encode("utf-8")
        self.sock.sendall(struct.pack(">I", len(data)) + data)

    def _read_exact(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("the bridge closed the connection")
            buf += chunk
        return buf

    def _read(self):
        (length,) = struct.unpack(">I", self._read_exact(4))
        return json.loads(self._read_exact(length).decode("utf-8"))

    def _next(self, address):
        """The next frame for an address (a reply address or a watch address)."""
        for i, frame in enumerate(self.pending):
            if frame.get("address") == address or frame.get("type") == "err":
                return self.pending.pop(i)
        while True:
            frame = self._read()
            if frame.get("address") == address or frame.get("type") == "err":
                return frame
            self.pending.append(frame)

    def request(self, verb, resource, namespace=None, name=None, body=None, group="", version="v1",
                subresource=None, query=None, patch_type=None, address=None):
        """One API call (get, list, create, update, patch, delete, deletecollection, watch, unwatch)."""
        reply = "py.reply.%d" % next(_ids)
        message = {"verb": verb, "group": group, "version": version, "resource": resource}
        for key, value in (("namespace", namespace), ("name", name), ("body", body),
                           ("subresource", subresource), ("query", query), ("patchType", patch_type),
                           ("address", address)):
            if value is not None:
                message[key] = value
        self._send({"type": "send", "address": "kvx.api", "replyAddress": reply, "headers": self.headers,
                    "body": message})
        frame = self._next(reply)
        if frame.get("type") == "err":
            raise BusError({"message": frame.get("message", "refused by the bridge")})
        if "failureCode" in frame:
            try:
                status = json.loads(frame.get("message", "{}"))
            except ValueError:
                status = {"code": frame["failureCode"], "message": frame.get("message")}
            raise BusError(status)
        return frame.get("body")

    def watch(self, resource, namespace=None, group="", version="v1", query=None):
        """Starts a watch; iterate over events() for {"type": ..., "object": ...}."""
        address = "kvx.watch.py-%d" % next(_ids)
        self._send({"type": "register", "address": address, "headers": self.headers})
        self.request("watch", resource, namespace=namespace, group=group, version=version, query=query,
                     address=address)
        return Watch(self, address, resource, group, version)


class Watch:
    def __init__(self, bus, address, resource, group, version):
        self.bus, self.address = bus, address
        self.resource, self.group, self.version = resource, group, version

    def events(self):
        while True:
            frame = self.bus._next(self.address)
            if frame.get("type") == "err":
                raise BusError({"message": frame.get("message")})
            yield frame.get("body")

    def close(self):
        self.bus.request("unwatch", self.resource, group=self.group, version=self.version, address=self.address)
        self.bus._send({"type": "unregister", "address": self.address, "headers": self.bus.headers})
