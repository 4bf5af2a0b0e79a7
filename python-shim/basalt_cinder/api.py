"""Client of the Basalt volume API (HTTP + JSON), standard library only.

Holds no storage logic: every call maps to one API request, and API errors become
BasaltApiError carrying the HTTP status and the field the API named.

A client knows one or more addresses of the API (the same node, or nodes behind one service
address). A request goes to the address that answered last; if that address cannot be reached
(connection refused, reset, timed out, TLS failure) the next one is tried, each at most once per
request. HTTP errors are answers and are never retried elsewhere. Every request the driver makes
may be repeated safely: creations are idempotent by name, deletions by id.
"""

import json
import ssl
import threading
import urllib.error
import urllib.parse
import urllib.request

API = "/api/v1"


def _segment(value, what):
    """One path segment, percent-quoted. An empty, "." or ".." segment is refused before sending:
    HTTP stacks resolve dot segments, so ".../hosts/.." would address the volume itself."""
    text = str(value)
    if text in ("", ".", ".."):
        raise ValueError("%s %r cannot be used in a volume API path" % (what, text))
    return urllib.parse.quote(text, safe="")


class BasaltApiError(Exception):
    """The volume API refused a request or could not be reached (status 0)."""

    def __init__(self, status, message, field=None):
        super().__init__(message)
        self.status = status
        self.field = field


class VolumeApi:
    """Volume, snapshot, snapshot group and host operations against a Basalt node's API.

    base_url: one URL or a list of URLs ("http://host:8470" or "https://..."), tried in turn.
    token: the bearer token (the node's admin token for the Cinder driver), or None.
    timeout: seconds for connecting and for each read.
    verify: for https, True (system CAs), False (no verification) or the path of a CA bundle.

    Methods that take project= use /api/v1/projects/{project}/...; without it the un-prefixed
    routes (the API's project "default").
    """

    def __init__(self, base_url, token=None, timeout=30, verify=True):
        urls = [base_url] if isinstance(base_url, str) else list(base_url)
        urls = [u.strip().rstrip("/") for u in urls if u and u.strip()]
        if not urls:
            raise ValueError("no volume API address")
        for url in urls:
            if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
                raise ValueError("volume API address %r is not an http:// or https:// URL" % url)
        self._urls = urls
        self._token = token
        self._timeout = timeout
        self._context = self._ssl_context(verify)
        self._lock = threading.Lock()
        self._current = 0

    @property
    def urls(self):
        return list(self._urls)

    # --- node ---------------------------------------------------------------------------

    def health(self):
        return self._request("GET", API + "/health")

    def stats(self):
        return self._request("GET", API + "/stats")

    def cluster(self):
        """The cluster the node belongs to (admin token); BasaltApiError 404 when it runs alone."""
        return self._request("GET", API + "/cluster")

    # --- volumes ------------------------------------------------------------------------

    def create_volume(self, name, size_bytes, hosts=(), project=None, compression=None,
                      replicas=None, source_snapshot_id=None, source_volume_id=None, qos=None):
        """qos: the volume's limits as the API names them (totalIops, ...), or None for none."""
        body = {"name": name, "sizeBytes": size_bytes, "hosts": list(hosts)}
        optional = {"compression": compression, "replicas": replicas,
                    "sourceSnapshotId": source_snapshot_id, "sourceVolumeId": source_volume_id,
                    "qos": qos}
        body.update({k: v for k, v in optional.items() if v is not None})
        return self._request("POST", self._prefix(project) + "/volumes", body)

    def get_volume(self, volume_id, project=None):
        return self._request("GET", self._volume_path(volume_id, project))

    def list_volumes(self, project=None, name=None):
        query = "" if name is None else "?name=" + urllib.parse.quote(name, safe="")
        return self._request("GET", self._prefix(project) + "/volumes" + query)["volumes"]

    def find_volume(self, name, project=None):
        """The volume called name, or None."""
        found = self.list_volumes(project, name=name)
        return found[0] if found else None

    def extend_volume(self, volume_id, size_bytes, project=None):
        return self._request("PUT", self._volume_path(volume_id, project), {"sizeBytes": size_bytes})

    def update_volume(self, volume_id, name=None, compression=None, project=None):
        """Renames the volume and/or switches its compression; None leaves a property as it is."""
        body = {k: v for k, v in (("name", name), ("compression", compression)) if v is not None}
        return self._request("PATCH", self._volume_path(volume_id, project), body)

    def set_qos(self, volume_id, qos, project=None):
        """Replaces the volume's limits (a missing one is no limit)."""
        return self._request("PUT", self._volume_path(volume_id, project) + "/qos", dict(qos))

    def set_hosts(self, volume_id, hosts, project=None):
        return self._request("PUT", self._volume_path(volume_id, project) + "/hosts",
                             {"hosts": list(hosts)})

    def add_host(self, volume_id, host_nqn, project=None):
        return self._request("POST", self._volume_path(volume_id, project) + "/hosts",
                             {"hostNqn": host_nqn})

    def remove_host(self, volume_id, host_nqn, project=None):
        return self._request("DELETE", self._volume_path(volume_id, project) + "/hosts/"
                             + _segment(host_nqn, "host NQN"))

    def revert_volume(self, volume_id, snapshot_id, project=None):
        return self._request("POST", self._volume_path(volume_id, project) + "/revert",
                             {"snapshotId": snapshot_id})

    def delete_volume(self, volume_id, project=None):
        """Deletes a volume; a volume that does not exist counts as deleted."""
        try:
            self._request("DELETE", self._volume_path(volume_id, project))
        except BasaltApiError as e:
            if e.status != 404:
                raise

    # --- snapshots ----------------------------------------------------------------------

    def create_snapshot(self, name, source_volume_id, project=None):
        return self._request("POST", self._prefix(project) + "/snapshots",
                             {"name": name, "sourceVolumeId": source_volume_id})

    def get_snapshot(self, snapshot_id, project=None):
        return self._request("GET", self._snapshot_path(snapshot_id, project))

    def list_snapshots(self, project=None, name=None):
        query = "" if name is None else "?name=" + urllib.parse.quote(name, safe="")
        return self._request("GET", self._prefix(project) + "/snapshots" + query)["snapshots"]

    def find_snapshot(self, name, project=None):
        """The snapshot called name, or None."""
        found = self.list_snapshots(project, name=name)
        return found[0] if found else None

    def delete_snapshot(self, snapshot_id, project=None):
        """Deletes a snapshot; a snapshot that does not exist counts as deleted."""
        try:
            self._request("DELETE", self._snapshot_path(snapshot_id, project))
        except BasaltApiError as e:
            if e.status != 404:
                raise

    # --- snapshot groups ----------------------------------------------------------------

    def create_snapshot_group(self, name, volume_ids, project=None):
        """Snapshots of the volumes at one instant; the group's "snapshots" follow volume_ids' order."""
        return self._request("POST", self._prefix(project) + "/snapshot-groups",
                             {"name": name, "volumeIds": list(volume_ids)})

    def get_snapshot_group(self, group_id, project=None):
        return self._request("GET", self._snapshot_group_path(group_id, project))

    def list_snapshot_groups(self, project=None, name=None):
        query = "" if name is None else "?name=" + urllib.parse.quote(name, safe="")
        return self._request("GET", self._prefix(project) + "/snapshot-groups" + query)["snapshotGroups"]

    def find_snapshot_group(self, name, project=None):
        """The snapshot group called name, or None."""
        found = self.list_snapshot_groups(project, name=name)
        return found[0] if found else None

    def delete_snapshot_group(self, group_id, project=None):
        """Deletes a snapshot group and its snapshots; one that does not exist counts as deleted."""
        try:
            self._request("DELETE", self._snapshot_group_path(group_id, project))
        except BasaltApiError as e:
            if e.status != 404:
                raise

    # --- plumbing -----------------------------------------------------------------------

    @staticmethod
    def _prefix(project):
        if project is None:
            return API
        return API + "/projects/" + _segment(project, "project")

    @classmethod
    def _volume_path(cls, volume_id, project=None):
        return cls._prefix(project) + "/volumes/" + _segment(volume_id, "volume id")

    @classmethod
    def _snapshot_path(cls, snapshot_id, project=None):
        return cls._prefix(project) + "/snapshots/" + _segment(snapshot_id, "snapshot id")

    @classmethod
    def _snapshot_group_path(cls, group_id, project=None):
        return cls._prefix(project) + "/snapshot-groups/" + _segment(group_id, "snapshot group id")

    @staticmethod
    def _ssl_context(verify):
        if verify is False:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            return context
        if verify is True or verify is None:
            return ssl.create_default_context()
        return ssl.create_default_context(cafile=str(verify))

    def _request(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        with self._lock:
            first = self._current
        failures = []
        for i in range(len(self._urls)):
            index = (first + i) % len(self._urls)
            url = self._urls[index]
            try:
                payload = self._send(url, method, path, data)
            except _Unreachable as e:
                failures.append("%s: %s" % (url, e.reason))
                continue
            with self._lock:
                self._current = index
            return json.loads(payload) if payload else None
        raise BasaltApiError(0, "%s %s: volume API unreachable: %s"
                             % (method, path, "; ".join(failures)))

    def _send(self, url, method, path, data):
        request = urllib.request.Request(url + path, data=data, method=method)
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if self._token:
            request.add_header("Authorization", "Bearer " + self._token)
        context = self._context if url.startswith("https:") else None
        try:
            with urllib.request.urlopen(request, timeout=self._timeout, context=context) as response:
                return response.read()
        except urllib.error.HTTPError as e:
            with e:
                raise self._error(e.code, e.read()) from None
        except (urllib.error.URLError, OSError) as e:
            raise _Unreachable(getattr(e, "reason", e)) from None

    @staticmethod
    def _error(status, payload):
        text = payload.decode(errors="replace")
        try:
            error = json.loads(payload)
        except ValueError:
            return BasaltApiError(status, text or "HTTP %d" % status)
        if not isinstance(error, dict):
            return BasaltApiError(status, text)
        return BasaltApiError(status, error.get("error", text), error.get("field"))


class _Unreachable(Exception):
    def __init__(self, reason):
        super().__init__(str(reason))
        self.reason = reason
