"""A tiny SMTP server on 127.0.0.1 for tests: records what it receives, sends nothing on.

Speaks enough ESMTP for smtplib: EHLO, optional STARTTLS (with a self-signed
certificate made here) and AUTH PLAIN, MAIL, RCPT, DATA, RSET, NOOP, QUIT.
Runs in a thread, so blocking smtplib code and async tests can both use it.
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
import re
import socket
import socketserver
import ssl
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

_ADDRESS = re.compile(r"<([^>]*)>")


@dataclass
class Received:
    mail_from: str
    rcpt_to: list[str]
    data: bytes
    tls: bool
    auth_user: str | None

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.data, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class SmtpSink:
    tls_context: ssl.SSLContext | None = None
    credentials: tuple[str, str] | None = None
    received: list[Received] = field(default_factory=list)
    host: str = "127.0.0.1"
    port: int = 0
    _server: Any = None
    _thread: threading.Thread | None = None

    def __enter__(self) -> SmtpSink:
        sink = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                sink._converse(self.request)

        self._server = socketserver.ThreadingTCPServer((self.host, 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _converse(self, conn: socket.socket) -> None:
        reader = conn.makefile("rb")
        tls = False
        user: str | None = None
        mail_from = ""
        rcpt: list[str] = []

        def send(*lines: str) -> None:
            conn.sendall("".join(f"{line}\r\n" for line in lines).encode("ascii"))

        send("220 sink ESMTP")
        while True:
            raw = reader.readline()
            if not raw:
                return
            command = raw.decode("utf-8", "replace").rstrip("\r\n")
            verb = command.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                extensions = ["sink"]
                if self.tls_context is not None and not tls:
                    extensions.append("STARTTLS")
                if self.credentials is not None:
                    extensions.append("AUTH PLAIN")
                send(*[f"250-{e}" for e in extensions[:-1]], f"250 {extensions[-1]}")
            elif verb == "STARTTLS" and self.tls_context is not None and not tls:
                send("220 listo para TLS")
                conn = self.tls_context.wrap_socket(conn, server_side=True)
                reader = conn.makefile("rb")
                tls = True
            elif verb == "AUTH" and self.credentials is not None:
                parts = command.split()
                if len(parts) != 3 or parts[1].upper() != "PLAIN":
                    send("504 solo AUTH PLAIN con respuesta inicial")
                    continue
                _, name, password = base64.b64decode(parts[2]).decode("utf-8").split("\x00")
                if (name, password) == self.credentials:
                    user = name
                    send("235 autenticado")
                else:
                    send("535 credenciales invalidas")
            elif verb == "MAIL":
                if self.credentials is not None and user is None:
                    send("530 autenticacion requerida")
                    continue
                match = _ADDRESS.search(command)
                mail_from, rcpt = (match.group(1) if match else ""), []
                send("250 ok")
            elif verb == "RCPT":
                match = _ADDRESS.search(command)
                rcpt.append(match.group(1) if match else "")
                send("250 ok")
            elif verb == "DATA":
                send("354 termine con una linea con un punto")
                lines = []
                while True:
                    line = reader.readline()
                    if line in (b".\r\n", b""):
                        break
                    lines.append(line[1:] if line.startswith(b"..") else line)
                self.received.append(Received(mail_from, rcpt, b"".join(lines), tls, user))
                send("250 en cola")
            elif verb in ("RSET", "NOOP"):
                send("250 ok")
            elif verb == "QUIT":
                send("221 adios")
                return
            else:
                send("502 no implementado")


def self_signed_tls(tmp_path: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server context, client context that trusts it) for 127.0.0.1."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_pem = certificate.public_bytes(serialization.Encoding.PEM)
    cert_file = tmp_path / "sink-cert.pem"
    key_file = tmp_path / "sink-key.pem"
    cert_file.write_bytes(cert_pem)
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert_file, key_file)
    client = ssl.create_default_context(cadata=cert_pem.decode("ascii"))
    return server, client
