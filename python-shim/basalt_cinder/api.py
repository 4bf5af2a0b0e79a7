"""Client of the Basalt volume API (HTTP + JSON), standard library only.

Holds no storage logic: every call maps to one API request, and API errors become
BasaltApiError carrying the HTTP status and the field the API named.
"""

import json
import urllib.error
import urllib.parse
import urllib.request


class BasaltApiError(Exception):
    """The volume API refused a request or could not be reached."""

    def __init__(self, status, message, field=None):
        super().__init__(message)
        self.status = status
        self.field = field


class VolumeApi:
    """Volume operations against one Basalt node's API."""

    def __init__(self, base_url, token=None, timeout=30):
        self._base = base_url.rstrip("/")
        self._token = token
        self._timeout = timeout

    def health(self):
        return self._request("GET", "/api/v1/health")

    def create_volume(self, name, size_bytes, hosts=()):
        body = {"name": name, "sizeBytes": size_bytes, "hosts": list(hosts)}
        return self._request("POST", "/api/v1/volumes", body)

    def get_volume(self, volume_id):
        return self._request("GET", self._volume_path(volume_id))

    def list_volumes(self):
        return self._request("GET", "/api/v1/volumes")["volumes"]

    def set_hosts(self, volume_id, hosts):
        return self._request("PUT", self._volume_path(volume_id) + "/hosts", {"hosts": list(hosts)})

    def delete_volume(self, volume_id):
        """Deletes a volume; a volume that does not exist counts as deleted."""
        try:
            self._request("DELETE", self._volume_path(volume_id))
        except BasaltApiError as e:
            if e.status != 404:
                raise

    @staticmethod
    def _volume_path(volume_id):
        return "/api/v1/volumes/" + urllib.parse.quote(volume_id, safe="")

    def _request(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self._base + path, data=data, method=method)
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if self._token:
            request.add_header("Authorization", "Bearer " + self._token)
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                payload = response.read()
        except urllib.error.HTTPError as e:
            raise self._error(e.code, e.read()) from None
        except (urllib.error.URLError, OSError) as e:
            raise BasaltApiError(0, "%s %s: volume API unreachable: %s" % (method, path, e)) from None
        return json.loads(payload) if payload else None

    @staticmethod
    def _error(status, payload):
        try:
            error = json.loads(payload)
            return BasaltApiError(status, error.get("error", payload.decode(errors="replace")), error.get("field"))
        except ValueError:
            return BasaltApiError(status, payload.decode(errors="replace"))
