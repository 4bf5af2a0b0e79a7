"""End-to-end test of the Basalt Cinder driver against real Cinder services and a real Linux
NVMe/TCP host. Run by python-shim/test-e2e.sh with Debian's /usr/bin/python3.

Everything runs on this machine, on free loopback ports, with its state in one temporary folder:
a Basalt node (bin/basalt serve), epmd + RabbitMQ, MariaDB on a socket, cinder-api,
cinder-scheduler and cinder-volume (the driver from python-shim/ on PYTHONPATH; its cinder.conf
backend section written by devstack/lib/basalt-cinder-conf.sh, the same code DevStack runs), and a
QEMU guest (TCG) with the stock Debian kernel's nvme-tcp, nvme-cli and fio.

Through Cinder's REST API only: a volume type with basalt:* extra specs, a volume, a snapshot, a
revert, a volume from the snapshot, a clone, an extend; then an attachment with the guest's host
NQN, and the guest connects with Cinder's connection_info exactly as os-brick would, finds the
namespace by vol_uuid and runs fio with crc32c verify; the data is then snapshotted (volume in
use), and a volume made from that snapshot is attached and verified in the guest. Detach, delete
everything; the Basalt API must show no volume, snapshot or host left. A volume of a multiattach
type attached to the guest and to a second host at once: the second detaches, the guest reads back
what it wrote and writes and verifies new data; then a retype of its compression on->off, done
in place on the node. A volume made on the node by hand is listed as manageable, managed and
unmanaged. A consistent group snapshot of three volumes while the guest writes numbered records
across them (each completed before the next): a group made from it must hold exactly a prefix of
the records. Then ten parallel create/attach/detach/delete flows with no error and nothing left.

Every wait is bounded; every process started here is stopped by its PID (process group) at the
end, also on failure. Exit status 0 means everything passed.
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
SHIM = os.path.dirname(HERE)
ROOT = os.path.dirname(SHIM)
sys.path.insert(0, SHIM)

from basalt_cinder.api import VolumeApi  # noqa: E402

PY = '/usr/bin/python3'
GiB = 1024 ** 3
MICROVERSION = 'volume 3.60'
BACKEND = 'basalt'
FIO_MB = 32  # random writes with crc32c verify, in the guest (TCG is slow)
# The gold type's read limit, low enough for a TCG guest to exceed it several times over.
QOS_READ_IOPS = 100
QOS_FIO_SECONDS = 10
MULTIATTACH_FIO_MB = 8
T0 = time.monotonic()


def log(msg):
    print('[e2e %6.1fs] %s' % (time.monotonic() - T0, msg), flush=True)


class Failure(Exception):
    pass


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def wait_for(what, predicate, timeout, interval=0.5):
    """Calls predicate until it returns a true value (returned) or timeout seconds pass."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except Failure:
            raise
        except Exception as e:  # noqa: BLE001 - reported if the wait times out
            last = e
        if time.monotonic() > deadline:
            raise Failure('timed out after %ds waiting for %s%s'
                          % (timeout, what, ' (last error: %s)' % last if last else ''))
        time.sleep(interval)


def port_open(port):
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(('127.0.0.1', port)) == 0


# --- processes ----------------------------------------------------------------------------------

class Processes:
    """Processes this test started, each in its own process group, stopped by PID in reverse."""

    def __init__(self, work):
        self.work = work
        self.started = []  # (name, Popen, log path)

    def start(self, name, argv, env=None, stdin=None, cwd=None):
        path = os.path.join(self.work, 'logs', name + '.log')
        out = open(path, 'ab')
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env,
                                stdin=stdin if stdin is not None else subprocess.DEVNULL,
                                cwd=cwd, start_new_session=True)
        out.close()
        self.started.append((name, proc, path))
        log('started %s (pid %d), log %s' % (name, proc.pid, path))
        return proc

    def check_alive(self, *names):
        for name, proc, path in self.started:
            if (not names or name in names) and proc.poll() is not None:
                raise Failure('%s exited with status %s; log %s:\n%s'
                              % (name, proc.returncode, path, tail(path)))

    def stop_all(self):
        for name, proc, _ in reversed(self.started):
            self.stop(name, proc)

    @staticmethod
    def stop(name, proc, grace=15):
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                proc.wait(grace)
            except subprocess.TimeoutExpired:
                log('%s (pid %d) ignored SIGTERM; killing it' % (name, proc.pid))
        # the group may hold children (API workers, beam) even after its leader ended
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            log('WARNING: %s (pid %d) did not end' % (name, proc.pid))


def tail(path, lines=60):
    try:
        with open(path, 'rb') as f:
            data = f.read()[-20000:].decode(errors='replace')
        return '\n'.join(data.splitlines()[-lines:])
    except OSError as e:
        return '(%s)' % e


# --- guest ---------------------------------------------------------------------------------------

def newc_archive(files):
    """A cpio "newc" archive of regular files in the root directory (what the kernel unpacks)."""
    out = bytearray()

    def entry(name, mode, ino, data):
        name_bytes = name.encode() + b'\0'
        fields = [ino, mode, 0, 0, 1, int(time.time()), len(data), 0, 0, 0, 0, len(name_bytes), 0]
        out.extend(b'070701' + ''.join('%08x' % f for f in fields).encode())
        out.extend(name_bytes)
        out.extend(b'\0' * (-len(out) % 4))
        out.extend(data)
        out.extend(b'\0' * (-len(out) % 4))

    for i, (name, data) in enumerate(files.items()):
        entry(name, 0o100755 if name.endswith('.sh') else 0o100644, 0x4000 + i, data)
    entry('TRAILER!!!', 0, 0, b'')
    return bytes(out)


class Guest:
    """The QEMU guest, driven over its serial console (guest-cinder.sh's command loop)."""

    def __init__(self, procs, work, guest_dir, host_nqn, host_id):
        params = "HOSTNQN='%s'\nHOSTID='%s'\n" % (host_nqn, host_id)
        with open(os.path.join(HERE, 'guest-cinder.sh'), 'rb') as f:
            script = f.read()
        initrd = os.path.join(work, 'guest-initrd.img')
        with open(initrd, 'wb') as out:
            with open(os.path.join(guest_dir, 'initramfs.img'), 'rb') as base:
                shutil.copyfileobj(base, out)
            out.write(newc_archive({'test.sh': script, 'params': params.encode()}))
        argv = ['qemu-system-x86_64', '-accel', 'tcg,thread=multi', '-cpu', 'max', '-m', '1024',
                '-smp', '2', '-nodefaults', '-no-user-config', '-display', 'none',
                '-monitor', 'none', '-serial', 'stdio', '-no-reboot',
                '-kernel', os.path.join(guest_dir, 'vmlinuz'), '-initrd', initrd,
                '-append', 'console=ttyS0 quiet panic=-1',
                '-netdev', 'user,id=n0', '-device', 'virtio-net-pci,netdev=n0']
        self.console_path = os.path.join(work, 'logs', 'guest-console.log')
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        procs.started.append(('qemu-guest', self.proc, self.console_path))
        log('started the QEMU guest (pid %d), console %s' % (self.proc.pid, self.console_path))
        self.lines = []
        self.cond = threading.Condition()
        self.eof = False
        self.seq = 0
        self.cursor = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        with open(self.console_path, 'w') as console:
            for raw in iter(self.proc.stdout.readline, b''):
                line = raw.decode(errors='replace').rstrip('\r\n')
                console.write(line + '\n')
                console.flush()
                if 'BASALT-' in line or 'e2e-guest:' in line:
                    print('[guest] ' + line, flush=True)
                with self.cond:
                    self.lines.append(line)
                    self.cond.notify_all()
        with self.cond:
            self.eof = True
            self.cond.notify_all()

    def await_line(self, predicate, timeout, what):
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                while self.cursor < len(self.lines):
                    line = self.lines[self.cursor]
                    self.cursor += 1
                    if predicate(line):
                        return line
                if self.eof:
                    raise Failure('the guest ended before %s; console %s:\n%s'
                                  % (what, self.console_path, tail(self.console_path)))
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Failure('no %s from the guest within %ds; console %s:\n%s'
                                  % (what, timeout, self.console_path,
                                     tail(self.console_path)))
                self.cond.wait(left)

    def ready(self, timeout=240):
        self.await_line(lambda l: 'BASALT-E2E-READY' in l, timeout, 'readiness marker')

    def run(self, verb, *args, timeout=300):
        self.seq += 1
        seq = self.seq
        command = ' '.join(['CMD', str(seq), verb] + [str(a) for a in args])
        log('guest <- %s' % command)
        self.proc.stdin.write((command + '\n').encode())
        self.proc.stdin.flush()
        line = self.await_line(lambda l: l.startswith('BASALT-DONE %d ' % seq), timeout,
                               'an answer to "%s"' % command)
        rc = int(line.split()[2])
        if rc != 0:
            raise Failure('guest command "%s" failed with status %d; console %s:\n%s'
                          % (command, rc, self.console_path, tail(self.console_path, 40)))


# --- Cinder REST ---------------------------------------------------------------------------------

class Cinder:
    def __init__(self, port, project):
        self.base = 'http://127.0.0.1:%d/v3/%s' % (port, project)
        self.project = project

    def request(self, method, path, body=None, expect=(200, 202, 204), service=False):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header('X-Auth-Token', 'admin:' + self.project)
        req.add_header('OpenStack-API-Version', MICROVERSION)
        req.add_header('Accept', 'application/json')
        if service:
            req.add_header('X-Service-Roles', 'service')
        if data is not None:
            req.add_header('Content-Type', 'application/json')
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                status, payload = resp.status, resp.read()
        except urllib.error.HTTPError as e:
            status, payload = e.code, e.read()
        if status not in expect:
            raise Failure('Cinder %s %s -> %d: %s' % (method, path, status,
                                                      payload.decode(errors='replace')[:2000]))
        return json.loads(payload) if payload else None

    def volume(self, volume_id):
        return self.request('GET', '/volumes/' + volume_id)['volume']

    def wait_volume(self, volume_id, status, timeout=120):
        def check():
            vol = self.volume(volume_id)
            if vol['status'] == 'error' or vol['status'].startswith('error_'):
                raise Failure('volume %s went to %s; see cinder-volume.log'
                              % (volume_id, vol['status']))
            return vol if vol['status'] == status else None
        return wait_for('volume %s to be %s' % (volume_id, status), check, timeout)

    def wait_snapshot(self, snapshot_id, status, timeout=120):
        def check():
            snap = self.request('GET', '/snapshots/' + snapshot_id)['snapshot']
            if snap['status'].startswith('error'):
                raise Failure('snapshot %s went to %s' % (snapshot_id, snap['status']))
            return snap if snap['status'] == status else None
        return wait_for('snapshot %s to be %s' % (snapshot_id, status), check, timeout)

    def wait_gone(self, kind, object_id, timeout=120):
        def check():
            try:
                got = self.request('GET', '/%s/%s' % (kind, object_id), expect=(200,))
            except Failure as e:
                if '-> 404' in str(e):
                    return True
                raise
            status = got[kind[:-1]]['status']
            if status.startswith('error'):
                raise Failure('%s %s went to %s while being deleted' % (kind, object_id, status))
            return False
        wait_for('%s %s to be deleted' % (kind, object_id), check, timeout)

    def wait_status(self, kind, object_id, status, timeout=120):
        """Groups and group snapshots: kind is their collection, the answer's key is its singular."""
        def check():
            got = self.request('GET', '/%s/%s' % (kind, object_id))[kind[:-1]]
            if got['status'].startswith('error'):
                raise Failure('%s %s went to %s; see cinder-volume.log' % (kind, object_id, got['status']))
            return got if got['status'] == status else None
        return wait_for('%s %s to be %s' % (kind, object_id, status), check, timeout)

    def delete_group(self, group_id):
        self.request('POST', '/groups/%s/action' % group_id, {'delete': {'delete-volumes': True}})
        self.wait_gone('groups', group_id, timeout=180)

    def create_volume(self, size, type_name, **extra):
        body = {'size': size, 'volume_type': type_name, 'name': 'e2e-' + uuid.uuid4().hex[:6]}
        body.update(extra)
        vol = self.request('POST', '/volumes', {'volume': body})['volume']
        return self.wait_volume(vol['id'], 'available')

    def delete_volume(self, volume_id):
        self.request('DELETE', '/volumes/' + volume_id)
        self.wait_gone('volumes', volume_id)

    def attach(self, volume_id, connector):
        att = self.request('POST', '/attachments', {'attachment': {
            'volume_uuid': volume_id, 'instance_uuid': str(uuid.uuid4()),
            'connector': connector, 'mode': 'rw'}})['attachment']
        self.request('POST', '/attachments/%s/action' % att['id'], {'os-complete': {}})
        self.wait_volume(volume_id, 'in-use', 60)
        return att

    def detach(self, attachment_id, volume_id):
        self.request('DELETE', '/attachments/' + attachment_id, service=True)
        self.wait_volume(volume_id, 'available', 60)


def connector_for(host_nqn, host_id, host='e2e-guest'):
    """What os-brick's get_connector_properties reports for an NVMe host."""
    return {'platform': 'x86_64', 'os_type': 'linux', 'ip': '10.0.2.15', 'host': host,
            'multipath': False, 'do_local_attach': False, 'uuid': host_id,
            'system uuid': host_id, 'nqn': host_nqn, 'nvme_native_multipath': True,
            'found_dsc': ''}


# --- the test ------------------------------------------------------------------------------------

class E2E:
    def __init__(self, args):
        self.args = args
        self.work = tempfile.mkdtemp(prefix='basalt-cinder-e2e-')
        os.makedirs(os.path.join(self.work, 'logs'))
        self.procs = Processes(self.work)
        self.project = uuid.uuid4().hex
        self.host_id = str(uuid.uuid4())
        self.host_nqn = 'nqn.2014-08.org.nvmexpress:uuid:' + self.host_id
        self.guest = None
        self.fake = None

    # -- infrastructure --

    def start_node(self):
        self.token = uuid.uuid4().hex + uuid.uuid4().hex
        if self.args.fake_node:
            sys.path.insert(0, os.path.join(SHIM, 'tests'))
            from fake_basalt import FakeBasalt
            self.fake = FakeBasalt(token=self.token).__enter__()
            self.basalt_url = self.fake.url
            log('fake Basalt API at %s (no guest I/O in this mode)' % self.basalt_url)
            return
        api_port, nvme_port, disc_port = free_port(), free_port(), free_port()
        data = os.path.join(self.work, 'basalt-data')
        config = os.path.join(self.work, 'basalt.properties')
        with open(os.open(config, os.O_WRONLY | os.O_CREAT, 0o600), 'w') as f:
            f.write('api.admin-token = %s\n' % self.token)
        self.node = self.procs.start('basalt-node', [
            os.path.join(ROOT, 'bin', 'basalt'), 'serve', '--data-dir', data, '--config', config,
            '--api.port=%d' % api_port, '--nvme.port=%d' % nvme_port,
            '--nvme.discovery-port=%d' % disc_port,
            # the guest reaches this machine's loopback as 10.0.2.2 (QEMU user networking)
            '--nvme.advertised-address=10.0.2.2'])
        self.basalt_url = 'http://127.0.0.1:%d' % api_port

    def wait_node(self):
        api = VolumeApi(self.basalt_url, token=self.token, timeout=5)

        def ready():
            self.procs.check_alive('basalt-node') if not self.fake else None
            return api.health()
        wait_for('the Basalt node', ready, 300)
        self.basalt = api
        api.stats()  # the token works
        log('Basalt node answers at %s' % self.basalt_url)

    def start_mariadb(self):
        datadir = os.path.join(self.work, 'mysql')
        self.db_socket = os.path.join(self.work, 'mysql.sock')
        out = subprocess.run(['mariadb-install-db', '--no-defaults', '--datadir=' + datadir,
                              '--user=root', '--auth-root-authentication-method=normal',
                              '--skip-test-db'], capture_output=True, timeout=180)
        if out.returncode != 0:
            raise Failure('mariadb-install-db failed:\n%s' % out.stdout.decode()[-3000:]
                          + out.stderr.decode()[-3000:])
        self.procs.start('mariadb', [
            'mariadbd', '--no-defaults', '--datadir=' + datadir, '--socket=' + self.db_socket,
            '--skip-networking', '--user=root', '--pid-file=' + os.path.join(self.work, 'mysql.pid'),
            '--innodb-buffer-pool-size=64M', '--innodb-log-file-size=16M',
            '--max-connections=500', '--skip-log-bin'])

    def wait_mariadb(self):
        def ready():
            self.procs.check_alive('mariadb')
            return subprocess.run(['mariadb', '--no-defaults', '-S', self.db_socket, '-u', 'root',
                                   '-e', 'CREATE DATABASE IF NOT EXISTS cinder'],
                                  capture_output=True, timeout=30).returncode == 0
        wait_for('MariaDB', ready, 120)
        log('MariaDB is up on %s' % self.db_socket)

    def start_rabbitmq(self):
        base = os.path.join(self.work, 'rabbitmq')
        os.makedirs(base)
        self.amqp_port, dist_port, epmd_port = free_port(), free_port(), free_port()
        with open(os.path.join(base, 'enabled_plugins'), 'w') as f:
            f.write('[].\n')
        open(os.path.join(base, 'rabbitmq-env.conf'), 'w').close()
        with open(os.path.join(base, 'rabbitmq.conf'), 'w') as f:
            f.write('listeners.tcp.1 = 127.0.0.1:%d\nloopback_users.guest = true\n'
                    % self.amqp_port)
        env = dict(os.environ)
        env.update({
            'HOME': base,
            'RABBITMQ_NODENAME': 'basalt-e2e-%d@localhost' % os.getpid(),
            'RABBITMQ_NODE_IP_ADDRESS': '127.0.0.1',
            'RABBITMQ_NODE_PORT': str(self.amqp_port),
            'RABBITMQ_DIST_PORT': str(dist_port),
            'ERL_EPMD_ADDRESS': '127.0.0.1',
            'ERL_EPMD_PORT': str(epmd_port),
            'RABBITMQ_MNESIA_BASE': os.path.join(base, 'mnesia'),
            'RABBITMQ_LOG_BASE': os.path.join(base, 'log'),
            'RABBITMQ_PID_FILE': os.path.join(base, 'rabbitmq.pid'),
            'RABBITMQ_ENABLED_PLUGINS_FILE': os.path.join(base, 'enabled_plugins'),
            'RABBITMQ_CONF_ENV_FILE': os.path.join(base, 'rabbitmq-env.conf'),
            'RABBITMQ_CONFIG_FILE': os.path.join(base, 'rabbitmq'),
            'RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS': '-kernel inet_dist_use_interface {127,0,0,1}',
        })
        # epmd in the foreground as our own child, on its own port and on loopback only, so that
        # it is stopped by its PID like everything else (beam finds it there and starts none).
        self.procs.start('epmd', ['epmd', '-port', str(epmd_port), '-address', '127.0.0.1'],
                         env=env)
        wait_for('epmd', lambda: port_open(epmd_port), 30, 0.2)
        self.procs.start('rabbitmq', ['/usr/lib/rabbitmq/bin/rabbitmq-server'], env=env)

    def wait_rabbitmq(self):
        def ready():
            self.procs.check_alive('rabbitmq', 'epmd')
            return port_open(self.amqp_port)
        wait_for('RabbitMQ', ready, 180)
        log('RabbitMQ listens on 127.0.0.1:%d' % self.amqp_port)

    def write_cinder_conf(self):
        self.cinder_port = free_port()
        self.cinder_conf = os.path.join(self.work, 'cinder.conf')
        state = os.path.join(self.work, 'cinder-state')
        os.makedirs(os.path.join(state, 'locks'))
        with open(self.cinder_conf, 'w') as f:
            f.write('\n'.join([
                '[DEFAULT]',
                'auth_strategy = noauth',
                'transport_url = rabbit://guest:guest@127.0.0.1:%d/' % self.amqp_port,
                'api_paste_config = %s' % os.path.join(HERE, 'api-paste.ini'),
                'resource_query_filters_file = %s' % os.path.join(HERE, 'resource_filters.json'),
                'osapi_volume_listen = 127.0.0.1',
                'osapi_volume_listen_port = %d' % self.cinder_port,
                'osapi_volume_workers = 2',
                'state_path = %s' % state,
                'host = basalt-e2e',
                'my_ip = 127.0.0.1',
                'debug = true',
                'use_stderr = false',
                'report_interval = 2',
                'service_down_time = 30',
                'scheduler_driver_init_wait_time = 5',
                'rpc_response_timeout = 60',
                'glance_api_servers = http://127.0.0.1:9',
                '',
                '[database]',
                'connection = mysql+pymysql://root@localhost/cinder?unix_socket=%s'
                % self.db_socket,
                'max_pool_size = 20',
                'max_overflow = 40',
                '',
                '[oslo_concurrency]',
                'lock_path = %s' % os.path.join(state, 'locks'),
                '',
                '[coordination]',
                'backend_url = file://%s' % os.path.join(state, 'locks'),
                '',
            ]))
        # The backend section: the same function DevStack's plugin runs.
        subprocess.run(['bash', os.path.join(ROOT, 'devstack', 'lib', 'basalt-cinder-conf.sh'),
                        self.cinder_conf, BACKEND, self.basalt_url, self.token],
                       check=True, timeout=30)
        os.chmod(self.cinder_conf, 0o600)

    def cinder_cmd(self, module, *args):
        return [PY, '-c', 'import sys; from cinder.cmd.%s import main; sys.exit(main())' % module,
                '--config-file', self.cinder_conf] + list(args)

    def start_cinder(self):
        env = dict(os.environ)
        env['PYTHONPATH'] = SHIM + os.pathsep + env.get('PYTHONPATH', '')
        log('cinder-manage db sync')
        out = subprocess.run(self.cinder_cmd('manage', 'db', 'sync'), capture_output=True,
                             env=env, timeout=300)
        if out.returncode != 0:
            raise Failure('cinder-manage db sync failed:\n%s%s'
                          % (out.stdout.decode()[-3000:], out.stderr.decode()[-3000:]))
        for service in ('api', 'scheduler', 'volume'):
            log_file = os.path.join(self.work, 'logs', 'cinder-%s.log' % service)
            self.procs.start('cinder-' + service + '-stdout',
                             self.cinder_cmd(service, '--log-file', log_file), env=env)
        self.cinder = Cinder(self.cinder_port, self.project)

    def wait_cinder(self):
        def api_up():
            self.procs.check_alive('cinder-api-stdout', 'cinder-scheduler-stdout',
                                   'cinder-volume-stdout')
            return self.cinder.request('GET', '/types')
        wait_for('cinder-api', api_up, 180)

        def volume_up():
            self.procs.check_alive('cinder-scheduler-stdout', 'cinder-volume-stdout')
            services = self.cinder.request('GET', '/os-services')['services']
            states = {(s['binary'], s['host']): (s['state'], s['status']) for s in services}
            return states.get(('cinder-volume', 'basalt-e2e@' + BACKEND)) == ('up', 'enabled') \
                and states.get(('cinder-scheduler', 'basalt-e2e'), ('',))[0] == 'up'
        wait_for('cinder-volume and cinder-scheduler to be up', volume_up, 180)

        def pool_reported():
            pools = self.cinder.request('GET', '/scheduler-stats/get_pools?detail=true')['pools']
            for pool in pools:
                if pool['name'] == 'basalt-e2e@%s#%s' % (BACKEND, BACKEND):
                    return pool
            return None
        pool = wait_for('the scheduler to know the Basalt pool', pool_reported, 180, 1)
        caps = pool['capabilities']
        log('Basalt pool in the scheduler: %s' % json.dumps(
            {k: caps.get(k) for k in ('storage_protocol', 'total_capacity_gb', 'free_capacity_gb',
                                      'thin_provisioning_support', 'driver_version')}))
        if caps.get('storage_protocol') != 'NVMe-TCP':
            raise Failure('storage_protocol is %r' % caps.get('storage_protocol'))

    def build_guest(self):
        if self.args.fake_node:
            return None
        out = subprocess.run(['bash', os.path.join(ROOT, 'storage-service', 'src', 'test',
                                                   'guest', 'build-guest.sh')],
                             capture_output=True, timeout=1200)
        if out.returncode != 0:
            raise Failure('build-guest.sh failed:\n' + out.stderr.decode()[-3000:])
        for line in out.stdout.decode().splitlines():
            if line.startswith('GUEST_DIR='):
                return line.split('=', 1)[1].strip()
        raise Failure('build-guest.sh named no GUEST_DIR')

    # -- checks through the Basalt API --

    def basalt_volume(self, cinder_volume_id):
        found = self.basalt.list_volumes(project=self.project,
                                         name='volume-' + cinder_volume_id)
        if len(found) != 1:
            raise Failure('Basalt has %d volumes named volume-%s in project %s'
                          % (len(found), cinder_volume_id, self.project))
        return found[0]

    def assert_nothing_left(self, stage):
        vols = self.basalt.list_volumes(project=self.project)
        snaps = self.basalt.list_snapshots(project=self.project)
        groups = self.basalt.list_snapshot_groups(project=self.project)
        everywhere = self.basalt.stats()
        if vols or snaps or groups or everywhere.get('volumes') or everywhere.get('snapshots'):
            raise Failure('%s: left on the node: volumes %s, snapshots %s, snapshot groups %s, node '
                          'stats %s' % (stage, [(v['name'], v['hosts']) for v in vols],
                                        [s['name'] for s in snaps], [g['name'] for g in groups],
                                        everywhere))
        log('%s: no volume, snapshot or host left on the node' % stage)

    # -- scenarios --

    def lifecycle(self):
        c = self.cinder
        vtype = c.request('POST', '/types', {'volume_type': {
            'name': 'basalt-e2e', 'extra_specs': {
                'volume_backend_name': BACKEND, 'basalt:compression': '<is> True',
                'basalt:replicas': '1'}}})['volume_type']
        log('volume type %s with %s' % (vtype['name'], vtype['extra_specs']))

        vol = c.create_volume(1, 'basalt-e2e')
        b = self.basalt_volume(vol['id'])
        log('volume %s -> Basalt %s (compression %s, replicas %s, %d bytes)'
            % (vol['id'], b['id'], b['compression'], b['replicas'], b['sizeBytes']))
        if not b['compression'] or b['replicas'] != 1 or b['sizeBytes'] != GiB:
            raise Failure('extra specs or size not applied: %s' % b)

        snap = c.request('POST', '/snapshots', {'snapshot': {'volume_id': vol['id'],
                                                             'name': 'e2e-snap'}})['snapshot']
        snap = c.wait_snapshot(snap['id'], 'available')
        bsnap = self.basalt.find_snapshot('snapshot-' + snap['id'], project=self.project)
        if not bsnap or bsnap['sourceVolumeId'] != b['id']:
            raise Failure('Basalt snapshot missing or of another volume: %s' % bsnap)
        log('snapshot %s -> Basalt %s' % (snap['id'], bsnap['id']))

        c.request('POST', '/volumes/%s/action' % vol['id'], {'revert': {'snapshot_id': snap['id']}})
        c.wait_volume(vol['id'], 'available')
        log('reverted volume %s to snapshot %s' % (vol['id'], snap['id']))

        from_snap = c.create_volume(2, 'basalt-e2e', snapshot_id=snap['id'])
        bf = self.basalt_volume(from_snap['id'])
        if bf.get('sourceSnapshotId') != bsnap['id'] or bf['sizeBytes'] != 2 * GiB:
            raise Failure('volume from snapshot: %s' % bf)
        log('volume %s from the snapshot (2 GiB)' % from_snap['id'])

        clone = c.create_volume(1, 'basalt-e2e', source_volid=vol['id'])
        bc = self.basalt_volume(clone['id'])
        if bc.get('sourceVolumeId') != b['id']:
            raise Failure('clone: %s' % bc)
        log('clone %s of volume %s' % (clone['id'], vol['id']))

        c.request('POST', '/volumes/%s/action' % vol['id'], {'os-extend': {'new_size': 2}})
        wait_for('the extend', lambda: c.volume(vol['id'])['size'] == 2
                 and c.volume(vol['id'])['status'] == 'available', 120)
        if self.basalt_volume(vol['id'])['sizeBytes'] != 2 * GiB:
            raise Failure('extend did not reach the node')
        log('extended volume %s to 2 GiB' % vol['id'])

        # -- attach to the guest, I/O as a Nova host would do it --
        att = c.attach(vol['id'], connector_for(self.host_nqn, self.host_id))
        info = att['connection_info']
        log('connection_info: %s' % json.dumps(info, sort_keys=True))
        data = info['data'] if 'data' in info else info
        if info.get('driver_volume_type', 'nvmeof') != 'nvmeof':
            raise Failure('driver_volume_type %r' % info.get('driver_volume_type'))
        self.check_connection_info(data, vol['id'])
        second = None
        if self.guest:
            self.guest.ready()
            addr, port, transport = data['portals'][0]
            self.guest.run('connect', data['target_nqn'], addr, port, transport, data['host_nqn'],
                           timeout=120)
            self.guest.run('size', data['vol_uuid'], 2 * GiB, timeout=90)  # extended before attach
            self.guest.run('fio', data['vol_uuid'], FIO_MB, 4242, timeout=400)

            # snapshot of the volume in use, a volume from it, attached and verified in the guest
            snap2 = c.request('POST', '/snapshots', {'snapshot': {
                'volume_id': vol['id'], 'name': 'e2e-snap-in-use', 'force': True}})['snapshot']
            snap2 = c.wait_snapshot(snap2['id'], 'available')
            copy = c.create_volume(2, 'basalt-e2e', snapshot_id=snap2['id'])
            att2 = c.attach(copy['id'], connector_for(self.host_nqn, self.host_id))
            data2 = att2['connection_info'].get('data', att2['connection_info'])
            self.check_connection_info(data2, copy['id'])
            addr, port, transport = data2['portals'][0]
            self.guest.run('connect', data2['target_nqn'], addr, port, transport,
                           data2['host_nqn'], timeout=120)
            self.guest.run('verify', data2['vol_uuid'], FIO_MB, 4242, timeout=400)
            log('the guest read back through a volume made from a snapshot what fio wrote')
            second = (att2, copy, snap2, data2)

        c.detach(att['id'], vol['id'])
        if self.basalt_volume(vol['id'])['hosts']:
            raise Failure('host still allowed after detach: %s' % self.basalt_volume(vol['id']))
        if self.guest:
            self.guest.run('gone', data['vol_uuid'], 60, timeout=90)
            log('the namespace left the guest when Cinder detached it')
        if second:
            att2, copy, snap2, data2 = second
            c.detach(att2['id'], copy['id'])
            self.guest.run('gone', data2['vol_uuid'], 60, timeout=90)
            self.guest.run('disconnect', data2['target_nqn'], timeout=90)
            c.delete_volume(copy['id'])
            c.request('DELETE', '/snapshots/' + snap2['id'])
            c.wait_gone('snapshots', snap2['id'])

        for v in (clone, from_snap):
            c.delete_volume(v['id'])
        c.request('DELETE', '/snapshots/' + snap['id'])
        c.wait_gone('snapshots', snap['id'])
        c.delete_volume(vol['id'])
        self.assert_nothing_left('after the lifecycle')

    def qos(self):
        """A back-end QoS spec associated to a type: its limits on the node, per GB after extend."""
        c = self.cinder
        vtype = c.request('POST', '/types', {'volume_type': {
            'name': 'basalt-e2e-gold', 'extra_specs': {'volume_backend_name': BACKEND}}})['volume_type']
        spec = c.request('POST', '/qos-specs', {'qos_specs': {
            'name': 'basalt-e2e-gold', 'consumer': 'back-end', 'read_iops_sec': str(QOS_READ_IOPS),
            'total_iops_sec_per_gb': '150', 'burst_seconds': '2'}})['qos_specs']
        c.request('GET', '/qos-specs/%s/associate?vol_type_id=%s' % (spec['id'], vtype['id']))
        log('QoS spec %s (back-end) associated to type %s' % (spec['id'], vtype['name']))

        vol = c.create_volume(1, 'basalt-e2e-gold')
        limits = self.basalt_volume(vol['id'])['qos']
        if (limits['readIops'], limits['totalIops'], limits['burstSeconds']) != (QOS_READ_IOPS, 150, 2):
            raise Failure('QoS spec not applied on the node: %s' % limits)
        c.request('POST', '/volumes/%s/action' % vol['id'], {'os-extend': {'new_size': 3}})
        wait_for('the extend', lambda: c.volume(vol['id'])['size'] == 3
                 and c.volume(vol['id'])['status'] == 'available', 120)
        limits = self.basalt_volume(vol['id'])['qos']
        if limits['totalIops'] != 450:
            raise Failure('total_iops_sec_per_gb did not follow the extend: %s' % limits)
        log('volume %s: node limits %s, per-GB limit followed the extend to 3 GiB' % (vol['id'], limits))
        if self.guest:
            self.qos_in_guest(vol)
        c.delete_volume(vol['id'])

    def qos_in_guest(self, limited):
        """The guest's fio: the limited volume within 10% of its limit, an unlimited one unharmed."""
        c = self.cinder
        free = c.create_volume(1, 'basalt-e2e')
        attached = [self.attach_in_guest(vol) for vol in (limited, free)]
        self.guest.run('qos', attached[0][2]['vol_uuid'], attached[1][2]['vol_uuid'], QOS_READ_IOPS,
                       QOS_FIO_SECONDS, timeout=4 * QOS_FIO_SECONDS + 120)
        log('the guest measured the limited volume within 10%% of %d IOPS while the unlimited one '
            'kept at least half its throughput (figures on the console)' % QOS_READ_IOPS)
        for att, vol, data in attached:
            c.detach(att['id'], vol['id'])
            self.guest.run('gone', data['vol_uuid'], 60, timeout=90)
        self.guest.run('disconnect', attached[0][2]['target_nqn'], timeout=90)
        c.delete_volume(free['id'])

    def multiattach_retype_manage(self):
        """Multi-attach to the guest and a second host, detach one, the guest's I/O goes on; a
        retype of compression on->off in place; manage and unmanage of a volume made by hand."""
        c = self.cinder
        types = {}
        for name, compression in (('basalt-e2e-multi', 'True'), ('basalt-e2e-multi-plain', 'False')):
            types[compression] = c.request('POST', '/types', {'volume_type': {
                'name': name, 'extra_specs': {'volume_backend_name': BACKEND,
                                              'multiattach': '<is> True',
                                              'basalt:compression': '<is> ' + compression}}})['volume_type']
        vol = c.create_volume(1, 'basalt-e2e-multi')
        basalt_id = self.basalt_volume(vol['id'])['id']
        other_id = str(uuid.uuid4())
        other_nqn = 'nqn.2014-08.org.nvmexpress:uuid:' + other_id
        att = c.attach(vol['id'], connector_for(self.host_nqn, self.host_id))
        other = c.attach(vol['id'], connector_for(other_nqn, other_id, host='e2e-other-host'))
        hosts = self.basalt_volume(vol['id'])['hosts']
        if sorted(hosts) != sorted([self.host_nqn, other_nqn]):
            raise Failure('hosts of the volume attached twice: %s' % hosts)
        data = att['connection_info'].get('data', att['connection_info'])
        if self.guest:
            addr, port, transport = data['portals'][0]
            self.guest.run('connect', data['target_nqn'], addr, port, transport, data['host_nqn'],
                           timeout=120)
            self.guest.run('fio', data['vol_uuid'], MULTIATTACH_FIO_MB, 77, timeout=300)
        c.request('DELETE', '/attachments/' + other['id'], service=True)
        wait_for('the second host to leave the volume',
                 lambda: self.basalt_volume(vol['id'])['hosts'] == [self.host_nqn], 60)
        if c.volume(vol['id'])['status'] != 'in-use':
            raise Failure('the volume is not in-use after one of two attachments went')
        if self.guest:
            self.guest.run('verify', data['vol_uuid'], MULTIATTACH_FIO_MB, 77, timeout=300)
            # The other host's detach must not cut the guest's writes either: new data, verified.
            self.guest.run('fio', data['vol_uuid'], MULTIATTACH_FIO_MB, 78, timeout=300)
            log('multi-attach: after the other host detached, the guest read back what it wrote '
                'and wrote and verified new data')
        else:
            log('multi-attach: the second host left the volume\'s hosts, the guest\'s stayed')
        c.detach(att['id'], vol['id'])
        if self.guest:
            self.guest.run('gone', data['vol_uuid'], 60, timeout=90)

        c.request('POST', '/volumes/%s/action' % vol['id'], {'os-retype': {
            'new_type': 'basalt-e2e-multi-plain', 'migration_policy': 'never'}})
        wait_for('the retype', lambda: c.volume(vol['id'])['volume_type'] == 'basalt-e2e-multi-plain'
                 and c.volume(vol['id'])['status'] == 'available', 120)
        b = self.basalt_volume(vol['id'])
        if b['compression'] or b['id'] != basalt_id:
            raise Failure('retype: the node shows %s (was Basalt volume %s)' % (b, basalt_id))
        log('retyped volume %s in place: the node compresses it no more' % vol['id'])
        c.delete_volume(vol['id'])

        self.manage_and_unmanage()

    def manage_and_unmanage(self):
        c = self.cinder
        made = self.basalt.create_volume('e2e-by-hand', GiB, project='default')
        host = 'basalt-e2e@' + BACKEND
        listed = c.request('GET', '/manageable_volumes/detail?host=' + host)['manageable-volumes']
        entry = [e for e in listed if e['reference'].get('source-id') == made['id']]
        if len(entry) != 1 or not entry[0]['safe_to_manage'] or entry[0]['size'] != 1:
            raise Failure('manageable volumes: %s' % listed)
        vol = c.request('POST', '/manageable_volumes', {'volume': {
            'host': host + '#' + BACKEND, 'ref': {'source-name': 'e2e-by-hand'},
            'volume_type': 'basalt-e2e-multi-plain', 'name': 'e2e-managed'}})['volume']
        vol = c.wait_volume(vol['id'], 'available')
        b = self.basalt.get_volume(made['id'], project='default')
        if vol['size'] != 1 or b['name'] != 'volume-' + vol['id']:
            raise Failure('manage: Cinder %s, the node %s' % (vol, b))
        log('managed Basalt volume %s as Cinder volume %s' % (made['id'], vol['id']))
        c.request('POST', '/volumes/%s/action' % vol['id'], {'os-unmanage': {}})
        c.wait_gone('volumes', vol['id'])
        b = self.basalt.get_volume(made['id'], project='default')
        if b['name'] != 'unmanaged-' + vol['id']:
            raise Failure('unmanage: the node shows %s' % b)
        log('unmanaged it: the node keeps it as %s' % b['name'])
        self.basalt.delete_volume(made['id'], project='default')
    def group_snapshot(self):
        """A consistent group snapshot under the guest's writes; a group and a volume made from it."""
        c = self.cinder
        started = time.monotonic()
        gtype = c.request('POST', '/group_types', {'group_type': {
            'name': 'basalt-e2e-consistent',
            'group_specs': {'consistent_group_snapshot_enabled': '<is> True'}}})['group_type']
        group = c.request('POST', '/groups', {'group': {
            'name': 'e2e-group', 'group_type': gtype['id'], 'volume_types': ['basalt-e2e']}})['group']
        c.wait_status('groups', group['id'], 'available')
        vols = [c.create_volume(1, 'basalt-e2e', group_id=group['id']) for _ in range(3)]
        originals = [self.basalt_volume(v['id'])['id'] for v in vols]
        attached = []
        if self.guest:
            attached = [self.attach_in_guest(v) for v in vols]
            self.guest.run('seqwrite', *[data['vol_uuid'] for _, _, data in attached], timeout=180)
        gs = c.request('POST', '/group_snapshots', {'group_snapshot': {
            'group_id': group['id'], 'name': 'e2e-group-snapshot'}})['group_snapshot']
        gs = c.wait_status('group_snapshots', gs['id'], 'available')
        if self.guest:
            self.guest.run('seqstop', timeout=120)
        node_groups = self.basalt.list_snapshot_groups(project=self.project)
        if [g['name'] for g in node_groups] != ['group-snapshot-' + gs['id']] or \
                sorted(m['sourceVolumeId'] for m in node_groups[0]['snapshots']) != sorted(originals):
            raise Failure('the group snapshot is not one node snapshot group of the three volumes: %s'
                          % node_groups)
        members = [s for s in c.request('GET', '/snapshots/detail')['snapshots']
                   if s.get('group_snapshot_id') == gs['id']]
        log('group snapshot %s -> Basalt snapshot group %s of %d volumes'
            % (gs['id'], node_groups[0]['id'], len(members)))

        copy = c.request('POST', '/groups/action', {'create-from-src': {
            'group_snapshot_id': gs['id'], 'name': 'e2e-group-copy'}})['group']
        c.wait_status('groups', copy['id'], 'available', timeout=180)
        source_of = {s['id']: s['volume_id'] for s in members}
        copies = {source_of[v['snapshot_id']]: v
                  for v in c.request('GET', '/volumes/detail?group_id=' + copy['id'])['volumes']}
        ordered = [copies[v['id']] for v in vols]
        member_ids = {m['id'] for m in node_groups[0]['snapshots']}
        if any(self.basalt_volume(v['id']).get('sourceSnapshotId') not in member_ids for v in ordered):
            raise Failure('the group made from the group snapshot is not made of its snapshots')
        single = c.create_volume(1, 'basalt-e2e', snapshot_id=members[0]['id'])
        if self.basalt_volume(single['id']).get('sourceSnapshotId') not in member_ids:
            raise Failure('the volume from a group snapshot member: %s' % self.basalt_volume(single['id']))
        log('group %s and volume %s made from the group snapshot' % (copy['id'], single['id']))

        if self.guest:
            restored = [self.attach_in_guest(v) for v in ordered]
            self.guest.run('seqcheck', *[data['vol_uuid'] for _, _, data in restored], timeout=300)
            log('the group made from the group snapshot holds exactly a prefix of the records')
            for att, vol, data in attached + restored:
                c.detach(att['id'], vol['id'])
                self.guest.run('gone', data['vol_uuid'], 60, timeout=90)
        c.delete_volume(single['id'])
        c.delete_group(copy['id'])
        c.request('DELETE', '/group_snapshots/' + gs['id'])
        c.wait_gone('group_snapshots', gs['id'])
        c.delete_group(group['id'])
        self.assert_nothing_left('after the group snapshot')
        log('group snapshot scenario took %.0fs' % (time.monotonic() - started))

    def attach_in_guest(self, vol):
        """Attaches a Cinder volume to the guest, which connects (or rescans) as os-brick would."""
        att = self.cinder.attach(vol['id'], connector_for(self.host_nqn, self.host_id))
        data = att['connection_info'].get('data', att['connection_info'])
        addr, port, transport = data['portals'][0]
        self.guest.run('connect', data['target_nqn'], addr, port, transport, data['host_nqn'],
                       timeout=120)
        return att, vol, data

    def check_connection_info(self, data, volume_id):
        b = self.basalt_volume(volume_id)
        expected = {'target_nqn': b['nqn'], 'vol_uuid': b['uuid'], 'volume_nguid': b['nguid'],
                    'ns_id': str(b['nsid']), 'host_nqn': self.host_nqn}
        for key, value in expected.items():
            if data.get(key) != value:
                raise Failure('connection_info %s = %r, Basalt says %r' % (key, data.get(key),
                                                                           value))
        portals = [[p['address'], str(p['port']), p['transport']] for p in b['portals']]
        if [list(p) for p in data['portals']] != portals:
            raise Failure('connection_info portals %r, Basalt says %r' % (data['portals'],
                                                                           portals))
        if b['hosts'] != [self.host_nqn]:
            raise Failure('Basalt hosts of the attached volume: %s' % b['hosts'])
        # and os-brick 6.1 reads it as one target found by namespace UUID
        from os_brick.initiator.connectors import nvmeof
        props = nvmeof.NVMeOFConnProps(dict(data))
        target = props.targets[0]
        if target.uuid != b['uuid'] or target.nqn != b['nqn'] or \
                target.host_nqn != self.host_nqn or props.is_replicated:
            raise Failure('os-brick reads the connection_info as %s' % vars(target))

    def parallel(self, flows=10):
        c = self.cinder
        errors = []

        def flow(i):
            host_id = str(uuid.uuid4())
            nqn = 'nqn.2014-08.org.nvmexpress:uuid:' + host_id
            vol = c.create_volume(1, 'basalt-e2e')
            att = c.attach(vol['id'], connector_for(nqn, host_id, host='compute-%d' % i))
            info = att['connection_info']
            if info.get('data', info).get('host_nqn') != nqn:
                raise Failure('flow %d: connection_info for another host' % i)
            hosts = self.basalt_volume(vol['id'])['hosts']
            if hosts != [nqn]:
                raise Failure('flow %d: hosts while attached: %s' % (i, hosts))
            c.detach(att['id'], vol['id'])
            hosts = self.basalt_volume(vol['id'])['hosts']
            if hosts:
                raise Failure('flow %d: hosts after detach: %s' % (i, hosts))
            c.delete_volume(vol['id'])
            return vol['id']

        start = time.monotonic()
        with ThreadPoolExecutor(flows) as pool:
            futures = [pool.submit(flow, i) for i in range(flows)]
            for i, f in enumerate(futures):
                try:
                    f.result(timeout=600)
                except Exception as e:  # noqa: BLE001 - all flows are reported
                    errors.append('flow %d: %s' % (i, e))
        if errors:
            raise Failure('parallel flows failed:\n' + '\n'.join(errors))
        log('%d parallel create/attach/detach/delete flows passed in %.1fs'
            % (flows, time.monotonic() - start))
        self.assert_nothing_left('after the parallel flows')

    def run(self):
        try:
            self.start_node()
            guest_dir = self.build_guest()
            if guest_dir:
                # boot early: the guest comes up while the services start
                self.guest = Guest(self.procs, self.work, guest_dir, self.host_nqn, self.host_id)
            self.start_mariadb()
            self.start_rabbitmq()
            self.wait_node()
            self.wait_mariadb()
            self.wait_rabbitmq()
            self.write_cinder_conf()
            self.start_cinder()
            self.wait_cinder()
            log('Cinder is up with the Basalt backend')
            self.lifecycle()
            self.qos()
            self.multiattach_retype_manage()
            self.group_snapshot()
            self.parallel(10)
            if self.guest:
                self.guest.run('quit', timeout=30)
            self.check_logs()
            log('PASSED in %.0fs' % (time.monotonic() - T0))
            return 0
        except Failure as e:
            log('FAILED: %s' % e)
            self.dump_logs()
            return 1
        except Exception:  # noqa: BLE001
            log('FAILED with an unexpected error:\n' + traceback.format_exc())
            self.dump_logs()
            return 1
        finally:
            self.procs.stop_all()
            if self.fake:
                self.fake.__exit__(None, None, None)
            if self.args.keep:
                log('kept %s' % self.work)
            else:
                shutil.rmtree(self.work, ignore_errors=True)

    def check_logs(self):
        """No Cinder service may have logged an error or a traceback during the test."""
        level_error = re.compile(r'^\S+ \S+ \d+ (ERROR|CRITICAL) ')
        bad = []
        for service in ('volume', 'scheduler', 'api'):
            path = os.path.join(self.work, 'logs', 'cinder-%s.log' % service)
            with open(path, errors='replace') as f:
                bad += ['cinder-%s: %s' % (service, line.rstrip()[:500]) for line in f
                        if level_error.match(line) or line.startswith('Traceback')]
        if bad:
            raise Failure('Cinder logged errors:\n' + '\n'.join(bad[:20]))
        log('no errors in the Cinder services\' logs')

    def dump_logs(self):
        for name in ('cinder-volume.log', 'cinder-scheduler.log', 'cinder-api.log',
                     'basalt-node.log', 'guest-console.log'):
            path = os.path.join(self.work, 'logs', name)
            if os.path.exists(path):
                errors = [l for l in tail(path, 4000).splitlines()
                          if ' ERROR ' in l or 'Traceback' in l or 'Exception' in l]
                print('---- %s (errors, then tail) ----' % name)
                print('\n'.join(errors[-30:]))
                print(tail(path, 30))
        if not self.args.keep:
            print('(run with --keep to keep %s)' % self.work)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--keep', action='store_true', help='keep the work folder and logs')
    parser.add_argument('--fake-node', action='store_true',
                        help='use tests/fake_basalt.py instead of a node, and no guest '
                             '(to work on the Cinder half alone)')
    args = parser.parse_args()
    if os.geteuid() != 0:
        print('e2e: needs root (MariaDB, RabbitMQ and the guest run as root here)', file=sys.stderr)
        return 2
    return E2E(args).run()


if __name__ == '__main__':
    sys.exit(main())
