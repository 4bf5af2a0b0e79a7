"""Error paths of the API client and the driver, against stub HTTP servers (no node needed)."""

import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import unittest
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from basalt_cinder.api import BasaltApiError, VolumeApi
from tests import cinder_support as cs
from tests.fake_basalt import FakeBasalt


def closed_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


class SilentServer:
    """Accepts connections and never answers (a hung node)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(('127.0.0.1', 0))
        self.sock.listen(16)
        self.url = 'http://127.0.0.1:%d' % self.sock.getsockname()[1]

    def close(self):
        self.sock.close()


class ClientErrorTest(unittest.TestCase):
    def setUp(self):
        self.fake = FakeBasalt(token='t0ken')
        self.fake.__enter__()
        self.addCleanup(self.fake.__exit__, None, None, None)

    def test_token_is_sent_and_checked(self):
        self.assertEqual('ok', VolumeApi(self.fake.url).health()['status'])  # no token needed
        with self.assertRaises(BasaltApiError) as bad:
            VolumeApi(self.fake.url, token='wrong').list_volumes()
        self.assertEqual(401, bad.exception.status)
        self.assertEqual([], VolumeApi(self.fake.url, token='t0ken').list_volumes())

    def test_project_paths_and_quoting(self):
        api = VolumeApi(self.fake.url, token='t0ken')
        api.list_volumes(project='p1', name='a b')
        with self.assertRaises(BasaltApiError) as missing:
            api.remove_host('v/1', 'nqn.2014-08.com.example:h 1', project='p1')
        self.assertEqual(404, missing.exception.status)
        paths = [p for _, p, _ in self.fake.requests]
        self.assertIn('/api/v1/projects/p1/volumes', paths)
        self.assertIn('/api/v1/projects/p1/volumes/v%2F1/hosts/nqn.2014-08.com.example%3Ah%201',
                      paths)

    def test_dot_and_empty_segments_are_never_sent(self):
        # Before: remove_host(id, '..') sent DELETE .../hosts/.., which the node resolved into
        # DELETE of the volume itself.
        api = VolumeApi(self.fake.url, token='t0ken')
        for bad in ('..', '.', ''):
            with self.assertRaises(ValueError):
                api.remove_host('v1', bad)
            with self.assertRaises(ValueError):
                api.get_volume(bad)
            with self.assertRaises(ValueError):
                api.list_volumes(project=bad)
        self.assertEqual([], self.fake.requests)

    def test_failover_to_the_next_address(self):
        dead = 'http://127.0.0.1:%d' % closed_port()
        api = VolumeApi([dead, self.fake.url], token='t0ken', timeout=5)
        self.assertEqual([], api.list_volumes())
        self.assertEqual([], api.list_volumes())  # sticks to the address that answered
        self.assertEqual(2, len(self.fake.requests))

    def test_http_errors_are_not_retried_elsewhere(self):
        other = FakeBasalt(token='t0ken')
        with other:
            api = VolumeApi([self.fake.url, other.url], token='t0ken')
            self.fake.fail_next.append((500, {'error': 'disk on fire'}))
            with self.assertRaises(BasaltApiError) as err:
                api.list_volumes()
            self.assertEqual(500, err.exception.status)
            self.assertEqual('disk on fire', str(err.exception))
            self.assertEqual([], other.requests)

    def test_all_addresses_unreachable(self):
        api = VolumeApi(['http://127.0.0.1:%d' % closed_port(),
                         'http://127.0.0.1:%d' % closed_port()], timeout=2)
        with self.assertRaises(BasaltApiError) as down:
            api.health()
        self.assertEqual(0, down.exception.status)
        self.assertIn('unreachable', str(down.exception))

    def test_timeout_is_bounded(self):
        silent = SilentServer()
        self.addCleanup(silent.close)
        api = VolumeApi([silent.url, self.fake.url], token='t0ken', timeout=1)
        start = time.monotonic()
        self.assertEqual([], api.list_volumes())  # timed out on the first, answered by the second
        self.assertLess(time.monotonic() - start, 10)

    def test_error_bodies(self):
        api = VolumeApi(self.fake.url, token='t0ken')
        self.fake.fail_next.append((400, {'error': 'bad size', 'field': 'sizeBytes'}))
        with self.assertRaises(BasaltApiError) as err:
            api.create_volume('x', 1)
        self.assertEqual(('sizeBytes', 'bad size'), (err.exception.field, str(err.exception)))
        self.fake.fail_next.append((502, b'<html>bad gateway</html>'))
        with self.assertRaises(BasaltApiError) as err:
            api.list_volumes()
        self.assertEqual(502, err.exception.status)
        self.assertIn('bad gateway', str(err.exception))

    def test_bad_addresses(self):
        with self.assertRaises(ValueError):
            VolumeApi([])
        with self.assertRaises(ValueError):
            VolumeApi('ftp://127.0.0.1:1')


@unittest.skipUnless(shutil.which('openssl'), 'openssl is not installed')
class TlsTest(unittest.TestCase):
    """https with a self-signed certificate: verified against it as CA, refused by default."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp()
        cls.addClassCleanup(shutil.rmtree, cls.dir)
        cert, key = os.path.join(cls.dir, 'cert.pem'), os.path.join(cls.dir, 'key.pem')
        subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1',
                        '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
                        '-keyout', key, '-out', cert], check=True, capture_output=True,
                       timeout=60)
        cls.cert = cert

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                body = b'{"status": "ok"}'
                self.send_response(200)
                self.send_header('Content-Length', str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        cls.server = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        cls.server.socket = context.wrap_socket(cls.server.socket, server_side=True)
        cls.url = 'https://127.0.0.1:%d' % cls.server.server_address[1]
        thread = threading.Thread(target=cls.server.serve_forever, daemon=True)
        thread.start()
        cls.addClassCleanup(cls.server.server_close)
        cls.addClassCleanup(cls.server.shutdown)

    def test_verified_with_the_ca_file(self):
        self.assertEqual('ok', VolumeApi(self.url, verify=self.cert, timeout=5).health()['status'])

    def test_unverified_when_asked(self):
        self.assertEqual('ok', VolumeApi(self.url, verify=False, timeout=5).health()['status'])

    def test_refused_against_system_cas(self):
        with self.assertRaises(BasaltApiError) as err:
            VolumeApi(self.url, timeout=5).health()
        self.assertEqual(0, err.exception.status)
        self.assertIn('CERTIFICATE', str(err.exception).upper())


class DriverErrorTest(unittest.TestCase):
    """API statuses become the Cinder exceptions the volume manager understands."""

    @classmethod
    def setUpClass(cls):
        cs.require_cinder()

    def setUp(self):
        self.fake = FakeBasalt(token='adm')
        self.fake.__enter__()
        self.addCleanup(self.fake.__exit__, None, None, None)
        self.driver = cs.new_driver(self.fake.url, 'adm')
        self.project = uuid.uuid4().hex

    def test_setup_errors(self):
        from cinder import exception
        with self.assertRaises(exception.InvalidConfigurationValue):
            cs.new_driver(self.fake.url, '')
        with self.assertRaises(exception.InvalidConfigurationValue):
            cs.new_driver('ftp://x', 'adm')
        wrong = cs.new_driver(self.fake.url, 'wrong')
        with self.assertRaisesRegex(exception.VolumeBackendAPIException, 'basalt_api_token'):
            wrong.check_for_setup_error()
        down = cs.new_driver('127.0.0.1:%d' % closed_port(), 'adm')  # bare host:port is http
        with self.assertRaisesRegex(exception.VolumeBackendAPIException, 'unreachable'):
            down.check_for_setup_error()
        self.driver.check_for_setup_error()

    def test_verify_tls_option(self):
        from basalt_cinder.driver import BasaltDriver
        self.assertIs(True, BasaltDriver._verify_tls('True'))
        self.assertIs(True, BasaltDriver._verify_tls(None))
        self.assertIs(False, BasaltDriver._verify_tls('false'))
        self.assertEqual('/etc/ssl/basalt-ca.pem', BasaltDriver._verify_tls('/etc/ssl/basalt-ca.pem'))

    def test_statuses(self):
        from basalt_cinder import driver
        from cinder import exception
        volume = cs.new_volume(self.project)
        for status, expected in ((409, driver.BasaltConflictError),
                                 (507, driver.BasaltCapacityError),
                                 (400, exception.VolumeBackendAPIException),
                                 (500, exception.VolumeBackendAPIException),
                                 (401, exception.VolumeBackendAPIException)):
            self.fake.fail_next.append((status, {'error': 'status %d' % status, 'field': 'name'}))
            with self.assertRaises(expected) as err:
                self.driver.create_volume(volume)
            self.assertIn('status %d' % status, str(err.exception))
        self.assertTrue(issubclass(driver.BasaltCapacityError,
                                   exception.VolumeBackendAPIException))
        self.assertTrue(issubclass(driver.BasaltConflictError,
                                   exception.VolumeBackendAPIException))

    def test_every_node_error_maps_to_a_cinder_exception_with_the_nodes_message(self):
        from basalt_cinder import api
        from basalt_cinder import driver
        from cinder import exception
        for status, expected in ((0, exception.VolumeBackendAPIException),
                                 (400, exception.VolumeBackendAPIException),
                                 (401, exception.VolumeBackendAPIException),
                                 (404, exception.NotFound),
                                 (409, driver.BasaltConflictError),
                                 (413, exception.VolumeBackendAPIException),
                                 (415, exception.VolumeBackendAPIException),
                                 (500, exception.VolumeBackendAPIException),
                                 (503, exception.VolumeBackendAPIException),
                                 (507, driver.BasaltCapacityError)):
            with self.subTest(status=status):
                mapped = driver._cinder_error(api.BasaltApiError(status, 'the node says %d' % status,
                                                                 'name'))
                self.assertIsInstance(mapped, expected)
                self.assertIn('the node says %d' % status, str(mapped))
                self.assertIn('name', str(mapped), 'the field the node named')

    def test_a_rename_to_a_taken_name_is_a_conflict(self):
        from basalt_cinder import driver
        taken = self.fake.handle('POST', '/api/v1/projects/%s/volumes' % self.project, {},
                                 {'name': 'taken', 'sizeBytes': 1 << 30})[1]
        other = cs.new_volume(self.project)
        cs.apply(other, self.driver.create_volume(other))
        with self.assertRaisesRegex(driver.BasaltConflictError, "'taken' already exists"):
            self.driver._call(self.driver.client.update_volume, other.provider_id, name='taken',
                              project=self.project)
        self.assertEqual('taken', self.fake.volumes[taken['id']]['name'])

    def test_conflicting_name(self):
        from basalt_cinder import driver
        volume = cs.new_volume(self.project, size=1)
        cs.apply(volume, self.driver.create_volume(volume))
        self.assertEqual(volume.provider_id, self.driver.create_volume(volume)['provider_id'])
        volume.size = 2  # same name, other size
        with self.assertRaises(driver.BasaltConflictError):
            self.driver.create_volume(volume)

    def test_capacity(self):
        from basalt_cinder import driver
        huge = cs.new_volume(self.project, size=100 * 1024)
        with self.assertRaisesRegex(driver.BasaltCapacityError, 'capacity'):
            self.driver.create_volume(huge)

    def test_a_connector_nqn_that_is_not_an_nqn_reaches_no_path(self):
        # Before: terminate_connection with a connector NQN of '..' deleted the volume.
        from basalt_cinder.driver import is_valid_nqn
        from cinder import exception
        volume = cs.new_volume(self.project)
        cs.apply(volume, self.driver.create_volume(volume))
        sent = len(self.fake.requests)
        for nqn in ('..', '.', '%2e%2e', 'nqn.2014-08.com.example:h\u2028', 'nqn.2014-08.com.example:h\n',
                    'nqn.2014-08.com.example:' + 'x' * 200, 'iqn.2010-10.org.openstack:x'):
            self.assertFalse(is_valid_nqn(nqn), nqn)
            with self.assertRaises(exception.InvalidConnectorException):
                self.driver.terminate_connection(volume, {'nqn': nqn})
            with self.assertRaises(exception.InvalidConnectorException):
                self.driver.initialize_connection(volume, {'nqn': nqn})
        self.assertEqual(sent, len(self.fake.requests))
        self.assertTrue(is_valid_nqn('nqn.2014-08.org.nvmexpress:uuid:' + str(uuid.uuid4())))
        self.assertTrue(is_valid_nqn('nqn.2014-08.com.example:h 1/2'))
        self.assertTrue(is_valid_nqn('nqn.2014-08.com.example'))

    def test_not_found_on_delete_and_detach_is_success(self):
        volume = cs.new_volume(self.project, provider_id=str(uuid.uuid4()))
        self.driver.delete_volume(volume)
        self.driver.terminate_connection(volume, {'nqn': 'nqn.2014-08.com.example:h1'})
        self.driver.terminate_connection(volume, None)
        snap = cs.new_snapshot(volume)
        snap.provider_id = str(uuid.uuid4())
        self.driver.delete_snapshot(snap)

    def test_stats_when_the_node_is_down(self):
        self.driver.get_volume_stats(refresh=True)
        down = cs.new_driver('http://127.0.0.1:%d' % closed_port(), 'adm')
        stats = down.get_volume_stats(refresh=True)
        pool = stats['pools'][0]
        self.assertEqual(0, pool['free_capacity_gb'])
        self.assertEqual('down', pool['backend_state'])


if __name__ == '__main__':
    unittest.main()
