"""certs.py — throwaway TLS certificates for the loopback test servers, made with the openssl CLI.

    from certs import make_certs
    c = make_certs(tmpdir)          # cached: a second call for the same directory is free
    c.ca_file                       # the test CA; a client that trusts it trusts c.cert_file
    c.cert_file, c.key_file         # server cert for localhost and 127.0.0.1, signed by the CA
    c.wrong_cert_file, c.wrong_key_file
                                    # self-signed certificate for the same names, which the CA never
                                    # signed: a client that verifies must refuse it
    c.server_context('good')        # ssl.SSLContext for a server presenting either certificate
    c.client_context()              # ssl.SSLContext for a Python client that trusts only the CA

Both certificates name `localhost` (DNS) and `127.0.0.1` (IP) in subjectAltName, so a client can
verify the host whichever way it connects. Keys are P-256 EC keys: generating them takes
milliseconds where RSA would take most of a second per key.
"""
import os
import shutil
import ssl
import subprocess
import tempfile
import threading
from dataclasses import dataclass

OPENSSL = 'openssl'
# Long enough for the tests that move the daemon's clock a year or two on.
DAYS = '1500'
CURVE = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-noenc']
SERVER_NAMES = 'subjectAltName=DNS:localhost,IP:127.0.0.1'
# A marker written last, so a directory holding it holds a complete set.
DONE = 'certs.done'
FILES = ('ca.pem', 'ca.key', 'server.pem', 'server.key', 'wrong.pem', 'wrong.key')

_lock = threading.Lock()


@dataclass(frozen=True)
class Certs:
    """Paths of one set of test certificates, and SSL contexts made from them."""
    directory: str
    ca_file: str
    cert_file: str
    key_file: str
    wrong_cert_file: str
    wrong_key_file: str

    def server_context(self, cert='good'):
        """A server-side context presenting the CA-signed ('good') or self-signed ('wrong') cert."""
        if cert not in ('good', 'wrong'):
            raise ValueError(f"cert must be 'good' or 'wrong', not {cert!r}")
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        if cert == 'good':
            ctx.load_cert_chain(self.cert_file, self.key_file)
        else:
            ctx.load_cert_chain(self.wrong_cert_file, self.wrong_key_file)
        return ctx

    def client_context(self):
        """A verifying client context that trusts the test CA and nothing else."""
        return ssl.create_default_context(cafile=self.ca_file)


def make_certs(directory):
    """Makes (or reuses) the CA, the good server certificate and the wrong one in `directory`.

    Generation goes to a scratch folder inside `directory` and each file is moved into place,
    the marker last, so two processes sharing a directory never see half a set.
    """
    directory = os.path.abspath(directory)
    with _lock:
        if not os.path.exists(os.path.join(directory, DONE)):
            os.makedirs(directory, exist_ok=True)
            scratch = tempfile.mkdtemp(prefix='.certs-', dir=directory)
            try:
                _generate(scratch)
                for name in FILES + (DONE,):
                    os.replace(os.path.join(scratch, name), os.path.join(directory, name))
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
    path = lambda name: os.path.join(directory, name)  # noqa: E731
    return Certs(directory, path('ca.pem'), path('server.pem'), path('server.key'),
                 path('wrong.pem'), path('wrong.key'))


def _generate(d):
    """Runs the three openssl commands: CA, server certificate signed by it, stray self-signed."""
    p = lambda name: os.path.join(d, name)  # noqa: E731
    _openssl('req', '-x509', *CURVE, '-days', DAYS, '-keyout', p('ca.key'), '-out', p('ca.pem'),
             '-subj', '/CN=paperwatch test CA',
             '-addext', 'basicConstraints=critical,CA:TRUE',
             '-addext', 'keyUsage=critical,keyCertSign,cRLSign')
    # `req -CA` (OpenSSL 3) issues the leaf in one step, without a CSR file or serial file.
    _openssl('req', '-x509', *CURVE, '-days', DAYS, '-keyout', p('server.key'),
             '-out', p('server.pem'), '-CA', p('ca.pem'), '-CAkey', p('ca.key'),
             *_leaf_extensions())
    _openssl('req', '-x509', *CURVE, '-days', DAYS, '-keyout', p('wrong.key'),
             '-out', p('wrong.pem'), *_leaf_extensions())
    with open(p(DONE), 'w') as f:
        f.write('complete\n')


def _leaf_extensions():
    """Extensions of a server (not CA) certificate for the loopback names; strict verifiers
    (OpenSSL's -x509_strict, newer Pythons' defaults) want all of them."""
    return ['-subj', '/CN=localhost',
            '-addext', SERVER_NAMES,
            '-addext', 'basicConstraints=critical,CA:FALSE',
            '-addext', 'keyUsage=critical,digitalSignature',
            '-addext', 'extendedKeyUsage=serverAuth']


def _openssl(*args):
    """Runs one openssl command; its output is shown only when it fails."""
    r = subprocess.run([OPENSSL, *args], stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f'openssl {args[0]} failed ({r.returncode}): {r.stderr.strip()}')
