#!/usr/bin/env python3
"""Pulls an image through containerd's CRI image service, as the kubelet does.

Usage (inside a node): python3 - IMAGE < cri_pull.py

The node image has no crictl, and Python has no HTTP/2 or gRPC library there, so this speaks
just enough of both over containerd's socket: one PullImage call (runtime.v1.ImageService),
HTTP/2 with prior knowledge, HPACK literals without Huffman coding. CRI resolves registries
through the `config_path` of containerd's configuration, exactly as for a kubelet, so a pull
that succeeds here proves the node's hosts.toml files are in effect for Kubernetes.

Prints the image reference containerd returns and exits 0, or exits 1 with what went wrong.
"""

import socket
import struct
import sys

SOCKET = "/run/containerd/containerd.sock"
METHOD = "/runtime.v1.ImageService/PullImage"

DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY = 0, 1, 3, 4, 6, 7
END_STREAM, ACK, END_HEADERS = 0x1, 0x1, 0x4


def varint(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def proto_string(field, value):
    data = value if isinstance(value, bytes) else value.encode()
    return varint(field << 3 | 2) + varint(len(data)) + data


def hpack_int(value, prefix_bits, first_byte=0):
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([first_byte | value])
    out = bytearray([first_byte | limit])
    value -= limit
    while value >= 128:
        out.append(value % 128 + 128)
        value //= 128
    out.append(value)
    return bytes(out)


def hpack_literal(name, value):
    # "Literal Header Field without Indexing — New Name", no Huffman coding.
    name, value = name.encode(), value.encode()
    return b"\x00" + hpack_int(len(name), 7) + name + hpack_int(len(value), 7) + value


def frame(kind, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


def read_exact(sock, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise EOFError("containerd closed the connection")
        buf += chunk
    return bytes(buf)


def read_frame(sock):
    head = read_exact(sock, 9)
    length = struct.unpack(">I", b"\x00" + head[:3])[0]
    kind, flags = head[3], head[4]
    stream = struct.unpack(">I", head[5:9])[0] & 0x7FFFFFFF
    return kind, flags, stream, read_exact(sock, length)


def read_varint(data, pos):
    shift = value = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


def image_ref(message):
    """Field 1 (image_ref) of a PullImageResponse."""
    pos = 0
    while pos < len(message):
        key, pos = read_varint(message, pos)
        if key & 7 != 2:
            raise ValueError("unexpected wire type in PullImageResponse")
        length, pos = read_varint(message, pos)
        if key >> 3 == 1:
            return message[pos : pos + length].decode()
        pos += length
    return ""


def main():
    image = sys.argv[1]
    request = proto_string(1, proto_string(1, image))  # PullImageRequest{image: ImageSpec{image}}
    body = b"\x00" + struct.pack(">I", len(request)) + request
    headers = b"".join(
        hpack_literal(k, v)
        for k, v in [
            (":method", "POST"),
            (":scheme", "http"),
            (":path", METHOD),
            (":authority", "localhost"),
            ("content-type", "application/grpc"),
            ("te", "trailers"),
        ]
    )
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(120)
    sock.connect(SOCKET)
    sock.sendall(
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
        + frame(SETTINGS, 0, 0)
        + frame(HEADERS, END_HEADERS, 1, headers)
        + frame(DATA, END_STREAM, 1, body)
    )
    data = b""
    while True:
        kind, flags, stream, payload = read_frame(sock)
        if kind == SETTINGS and not flags & ACK:
            sock.sendall(frame(SETTINGS, ACK, 0))
        elif kind == PING and not flags & ACK:
            sock.sendall(frame(PING, ACK, 0, payload))
        elif kind == GOAWAY:
            sys.exit("containerd sent GOAWAY: %r" % payload)
        elif stream == 1 and kind == RST_STREAM:
            sys.exit("containerd reset the PullImage stream: %r" % payload)
        elif stream == 1 and kind == DATA:
            data += payload
        elif stream == 1 and kind == HEADERS and flags & END_STREAM:
            break
    if len(data) < 5:
        # The trailers carry grpc-status and grpc-message, HPACK-coded (usually Huffman).
        sys.exit("PullImage of %s failed (no response message; trailers %r)" % (image, payload))
    length = struct.unpack(">I", data[1:5])[0]
    print(image_ref(data[5 : 5 + length]))


if __name__ == "__main__":
    main()
