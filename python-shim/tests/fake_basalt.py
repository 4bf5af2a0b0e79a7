"""An in-memory stand-in for a Basalt node's volume API (the contract of docs/api.md), for unit
tests of the client and the driver's error paths. Standard library only; serves on 127.0.0.1.

Tests can script failures: `server.fail_next.append((status, body))` makes the next request
answer that, whatever it was.
"""

import json
import re
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

NAME = re.compile(r'^[A-Za-z0-9._-]{1,64}$')
GiB = 1024 ** 3
UNLIMITED = {'totalIops': 0, 'readIops': 0, 'writeIops': 0, 'totalBytesPerSec': 0,
             'readBytesPerSec': 0, 'writeBytesPerSec': 0, 'burstSeconds': 0}


class FakeBasalt:
    def __init__(self, token='admin-token', total_bytes=100 * GiB, ratio=20.0):
        self.token = token
        self.total_bytes = total_bytes
        self.ratio = ratio
        self.volumes = {}    # id -> volume dict (with 'project')
        self.snapshots = {}  # id -> snapshot dict
        self.snapshot_groups = {}  # id -> snapshot group dict (its members are in snapshots)
        self.requests = []   # (method, path, body)
        self.fail_next = []
        self.lock = threading.Lock()
        self.nsid = 0
        # GET /cluster's answer: None, the node runs alone (404); a dict, the overview; or (status, body)
        self.cluster = None
        self.portals = [{'transport': 'tcp', 'address': '127.0.0.1', 'port': 4420}]
        handler = type('Handler', (_Handler,), {'fake': self})
        self.server = ThreadingHTTPServer(('127.0.0.1', 0), handler)
        self.server.daemon_threads = True
        self.url = 'http://127.0.0.1:%d' % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)

    # --- behaviour ----------------------------------------------------------------------

    def handle(self, method, path, query, body):
        if path in ('/api/v1/health',):
            return 200, {'status': 'ok'}
        m = re.match(r'^/api/v1(?:/projects/([A-Za-z0-9._-]{1,64}))?(/.*)$', path)
        if not m:
            return 404, {'error': 'no such path'}
        project, rest = m.group(1) or 'default', m.group(2)
        if rest == '/stats' and m.group(1) is None:
            provisioned = sum(v['sizeBytes'] for v in self.volumes.values())
            return 200, {'totalBytes': self.total_bytes, 'freeBytes': self.total_bytes - 4096,
                         'usedBytes': 4096, 'provisionedBytes': provisioned,
                         'maxOversubscriptionRatio': self.ratio, 'compressionRatio': 1.0,
                         'writeAmplification': 1.0, 'volumes': len(self.volumes),
                         'snapshots': len(self.snapshots)}
        if rest == '/cluster' and m.group(1) is None:
            if self.cluster is None:
                return 404, {'error': 'this node is not in a cluster'}
            return self.cluster if isinstance(self.cluster, tuple) else (200, self.cluster)
        if rest == '/volumes':
            if method == 'GET':
                vols = [v for v in self.volumes.values() if v['project'] == project
                        and ('name' not in query or v['name'] == query['name'][0])]
                return 200, {'volumes': vols}
            if method == 'POST':
                return self.create_volume(project, body)
        if rest == '/snapshots':
            if method == 'GET':
                snaps = [s for s in self.snapshots.values() if s['project'] == project
                         and ('name' not in query or s['name'] == query['name'][0])]
                return 200, {'snapshots': snaps}
            if method == 'POST':
                return self.create_snapshot(project, body)
        if rest == '/snapshot-groups':
            if method == 'GET':
                groups = [g for g in self.snapshot_groups.values() if g['project'] == project
                          and ('name' not in query or g['name'] == query['name'][0])]
                return 200, {'snapshotGroups': [self.group_view(g) for g in groups]}
            if method == 'POST':
                return self.create_snapshot_group(project, body)
        m = re.match(r'^/snapshot-groups/([^/]+)$', rest)
        if m:
            group = self.snapshot_groups.get(unquote(m.group(1)))
            if group is None or group['project'] != project:
                return (204, None) if method == 'DELETE' else (404, {'error': 'no snapshot group'})
            if method == 'GET':
                return 200, self.group_view(group)
            if method == 'DELETE':
                for sid in group['snapshotIds']:
                    del self.snapshots[sid]
                del self.snapshot_groups[group['id']]
                return 204, None
        m = re.match(r'^/volumes/([^/]+)(/hosts(?:/(.+))?|/revert|/qos)?$', rest)
        if m:
            vol = self.volumes.get(unquote(m.group(1)))
            if vol is None or vol['project'] != project:
                return (204, None) if method == 'DELETE' and not m.group(2) else \
                    (404, {'error': 'no volume ' + m.group(1)})
            sub = m.group(2)
            if not sub:
                if method == 'GET':
                    return 200, vol
                if method == 'DELETE':
                    del self.volumes[vol['id']]
                    return 204, None
                if method == 'PUT':
                    if body['sizeBytes'] < vol['sizeBytes']:
                        return 400, {'error': 'smaller', 'field': 'sizeBytes'}
                    if body['sizeBytes'] > self.total_bytes * self.ratio:
                        return 507, {'error': 'insufficient capacity'}
                    vol['sizeBytes'] = body['sizeBytes']
                    return 200, vol
                if method == 'PATCH':
                    return self.update_volume(vol, body)
            elif sub == '/revert' and method == 'POST':
                snap = self.snapshots.get(body['snapshotId'])
                if snap is None or snap['project'] != project:
                    return 404, {'error': 'no snapshot'}
                if snap['sourceVolumeId'] != vol['id']:
                    return 400, {'error': 'not of this volume', 'field': 'snapshotId'}
                return 200, vol
            elif sub == '/qos' and method == 'PUT':
                problem = self.qos_problem(body)
                if problem:
                    return 400, problem
                vol['qos'] = dict(UNLIMITED, **body)
                return 200, vol
            elif sub == '/hosts' and method == 'PUT':
                vol['hosts'] = list(dict.fromkeys(body['hosts']))
                return 200, vol
            elif sub == '/hosts' and method == 'POST':
                if not body['hostNqn'].startswith('nqn.'):
                    return 400, {'error': 'bad nqn', 'field': 'hostNqn'}
                if body['hostNqn'] not in vol['hosts']:
                    vol['hosts'].append(body['hostNqn'])
                return 200, vol
            elif sub.startswith('/hosts/') and method == 'DELETE':
                nqn = unquote(m.group(3))
                vol['hosts'] = [h for h in vol['hosts'] if h != nqn]
                return 200, vol
            return 405, {'error': 'method not allowed'}
        m = re.match(r'^/snapshots/([^/]+)$', rest)
        if m:
            snap = self.snapshots.get(unquote(m.group(1)))
            if snap is None or snap['project'] != project:
                return (204, None) if method == 'DELETE' else (404, {'error': 'no snapshot'})
            if method == 'GET':
                return 200, snap
            if method == 'DELETE':
                if any(snap['id'] in g['snapshotIds'] for g in self.snapshot_groups.values()):
                    return 409, {'error': 'a member of a snapshot group', 'field': 'id'}
                del self.snapshots[snap['id']]
                return 204, None
        return 404, {'error': 'no such path'}

    def create_volume(self, project, body):
        allowed = {'name', 'sizeBytes', 'hosts', 'compression', 'replicas', 'sourceSnapshotId',
                   'sourceVolumeId', 'qos'}
        for key in body:
            if key not in allowed:
                return 400, {'error': 'unknown field ' + key, 'field': key}
        if not NAME.match(body.get('name', '')):
            return 400, {'error': 'bad name', 'field': 'name'}
        size = body.get('sizeBytes', 0)
        if size % 512 or size < 0:
            return 400, {'error': 'sizeBytes must be a multiple of 512 bytes', 'field': 'sizeBytes'}
        problem = self.qos_problem(body.get('qos', {}), 'qos.')
        if problem:
            return 400, problem
        if body.get('replicas', 1) != 1:
            return 400, {'error': 'a single node keeps 1 replica', 'field': 'replicas'}
        source = None
        if body.get('sourceSnapshotId'):
            source = self.snapshots.get(body['sourceSnapshotId'])
        elif body.get('sourceVolumeId'):
            source = self.volumes.get(body['sourceVolumeId'])
        if (body.get('sourceSnapshotId') or body.get('sourceVolumeId')) and \
                (source is None or source['project'] != project):
            return 404, {'error': 'no source'}
        if size == 0:
            if source is None:
                return 400, {'error': 'sizeBytes must be positive', 'field': 'sizeBytes'}
            size = source['sizeBytes']
        if size > self.total_bytes * self.ratio:
            return 507, {'error': 'insufficient capacity'}
        for v in self.volumes.values():
            if v['project'] == project and v['name'] == body['name']:
                same = v['sizeBytes'] == size and v['hosts'] == body.get('hosts', [])
                return (200, v) if same else (409, {'error': 'name taken', 'field': 'name'})
        self.nsid += 1
        vid = str(uuid.uuid4())
        vol = {'id': vid, 'name': body['name'], 'project': project, 'sizeBytes': size,
               'compression': bool(body.get('compression', False)),
               'replicas': body.get('replicas', 1),
               'nqn': 'nqn.2024-01.io.basalt:subsystem:fake', 'nsid': self.nsid,
               'uuid': str(uuid.uuid4()), 'nguid': uuid.uuid4().hex,
               'hosts': list(dict.fromkeys(body.get('hosts', []))),
               'qos': dict(UNLIMITED, **body.get('qos', {})),
               'portals': [dict(p) for p in self.portals],
               'space': {'mappedBytes': 0, 'storedBytes': 0, 'exclusiveBytes': 0,
                         'sharedBytes': 0}}
        if body.get('sourceSnapshotId'):
            vol['sourceSnapshotId'] = body['sourceSnapshotId']
        if body.get('sourceVolumeId'):
            vol['sourceVolumeId'] = body['sourceVolumeId']
        self.volumes[vid] = vol
        return 201, vol

    def update_volume(self, vol, body):
        for key in body:
            if key not in ('name', 'compression'):
                return 400, {'error': 'unknown field ' + key, 'field': key}
        if not body:
            return 400, {'error': 'give at least one of name and compression'}
        if 'name' in body:
            if not NAME.match(body['name']):
                return 400, {'error': 'bad name', 'field': 'name'}
            if any(v['project'] == vol['project'] and v['name'] == body['name'] and v is not vol
                   for v in self.volumes.values()):
                return 409, {'error': "a volume named '%s' already exists" % body['name'],
                             'field': 'name'}
            vol['name'] = body['name']
        if 'compression' in body:
            if not isinstance(body['compression'], bool):
                return 400, {'error': 'compression must be true or false', 'field': 'compression'}
            vol['compression'] = body['compression']
        return 200, vol

    @staticmethod
    def qos_problem(qos, prefix=''):
        """The node's answer to invalid limits (RequestValidator), or None."""
        for key, value in qos.items():
            if key not in UNLIMITED:
                return {'error': 'unknown field ' + key, 'field': prefix + key}
            top = 3600 if key == 'burstSeconds' else 2 ** 63 - 1
            if not isinstance(value, int) or not 0 <= value <= top:
                return {'error': prefix + key + ' must be an integer from 0 (no limit) to %d' % top,
                        'field': prefix + key}
        return None

    def create_snapshot(self, project, body):
        source = self.volumes.get(body.get('sourceVolumeId', ''))
        if source is None or source['project'] != project:
            return 404, {'error': 'no volume'}
        for s in self.snapshots.values():
            if s['project'] == project and s['name'] == body['name']:
                same = s['sourceVolumeId'] == source['id']
                return (200, s) if same else (409, {'error': 'name taken', 'field': 'name'})
        sid = str(uuid.uuid4())
        snap = {'id': sid, 'name': body['name'], 'project': project,
                'sourceVolumeId': source['id'], 'sizeBytes': source['sizeBytes'],
                'createdAt': '2024-01-01T00:00:00Z',
                'space': {'mappedBytes': 0, 'storedBytes': 0, 'exclusiveBytes': 0,
                          'sharedBytes': 0}}
        self.snapshots[sid] = snap
        return 201, snap


    def create_snapshot_group(self, project, body):
        ids = body.get('volumeIds') or []
        if not ids or len(ids) > 64 or len(set(ids)) != len(ids):
            return 400, {'error': 'volumeIds must name 1 to 64 volumes, each once', 'field': 'volumeIds'}
        sources = [self.volumes.get(i) for i in ids]
        if any(v is None or v['project'] != project for v in sources):
            return 404, {'error': 'no volume'}
        for g in self.snapshot_groups.values():
            if g['project'] == project and g['name'] == body['name']:
                same = [self.snapshots[s]['sourceVolumeId'] for s in g['snapshotIds']] == ids
                return (200, self.group_view(g)) if same else \
                    (409, {'error': 'name taken', 'field': 'name'})
        members = []
        for i, source in enumerate(sources):
            status, snap = self.create_snapshot(project, {'name': '%s.%d' % (body['name'], i),
                                                          'sourceVolumeId': source['id']})
            members.append(snap['id'])
        group = {'id': str(uuid.uuid4()), 'name': body['name'], 'project': project,
                 'createdAt': '2024-01-01T00:00:00Z', 'snapshotIds': members}
        self.snapshot_groups[group['id']] = group
        return 201, self.group_view(group)

    def group_view(self, group):
        view = {k: v for k, v in group.items() if k != 'snapshotIds'}
        view['snapshots'] = [self.snapshots[s] for s in group['snapshotIds']]
        return view


class _Handler(BaseHTTPRequestHandler):
    fake = None
    protocol_version = 'HTTP/1.1'

    def log_message(self, *args):
        pass

    def _serve(self):
        length = int(self.headers.get('Content-Length') or 0)
        raw = self.rfile.read(length) if length else b''
        body = json.loads(raw) if raw else None
        split = urlsplit(self.path)
        fake = self.fake
        with fake.lock:
            fake.requests.append((self.command, split.path, body))
            if fake.fail_next:
                status, payload = fake.fail_next.pop(0)
            elif split.path != '/api/v1/health' and \
                    self.headers.get('Authorization') != 'Bearer ' + fake.token:
                status, payload = 401, {'error': 'the bearer token is not valid'}
            else:
                status, payload = fake.handle(self.command, split.path, parse_qs(split.query),
                                              body)
        data = b'' if payload is None else (
            payload if isinstance(payload, bytes) else json.dumps(payload).encode())
        self.send_response(status)
        if status == 401:
            self.send_header('WWW-Authenticate', 'Bearer')
        if data:
            self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve
