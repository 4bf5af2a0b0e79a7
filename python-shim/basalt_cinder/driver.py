"""Cinder volume driver for Basalt NVMe/TCP block storage.

A thin client of the node's volume API (basalt_cinder.api): every driver call is one or two API
requests, and the node does the work (thin volumes, O(1) snapshots and clones, host ACLs).
Hosts attach with os-brick's NVMe-oF connector (driver_volume_type "nvmeof").

cinder.conf, in the backend's section:

    [basalt-1]
    volume_driver = basalt_cinder.driver.BasaltDriver
    volume_backend_name = basalt
    basalt_api_addresses = http://192.0.2.10:8470
    basalt_api_token = <the node's admin token>

Mapping of Cinder objects to Basalt objects:
- A Cinder volume is the Basalt volume named volume.name ("volume-<id>") in the Basalt project
  of the Cinder project that owns it (/api/v1/projects/{project}/...). Its Basalt id is kept
  in provider_id, its Basalt project in provider_location ("basalt:<project>"), so that the
  volume is still found after a Cinder volume transfer changes its owner.
- A snapshot is the Basalt snapshot named snapshot.name ("snapshot-<id>") in the project of its
  source volume. Volumes made from a snapshot or cloned from a volume live in the project of
  their source (Basalt shares blocks only within a project).
- Volume type extra specs: basalt:compression (boolean), basalt:replicas (1..3).
- QoS: the QoS specs associated to the volume type, consumer "back-end" or "both", become the
  node's per-volume limits (qos_limits below), sent on create and again on extend, so that the
  *_per_gb specs follow the size. Consumer "front-end" specs are Nova's (libvirt) and ignored.
- Multi-attach: a volume's ACL holds every attached host's NQN; a host is removed only when its
  last attachment of the volume goes (several instances on one host share one NVMe connection).
- Retype: compression and QoS change in place on the node; a change of replicas needs Cinder's
  migration (retype_blockers below).
- Manage: a node volume of Basalt's "default" project or of the Cinder volume's project, found by
  id (source-id) or name (source-name), is renamed to the Cinder volume's name; unmanage renames it
  "unmanaged-<Cinder volume id>" and leaves it on the node.
- Groups: see basalt_cinder.groups (a consistent group snapshot is one node snapshot group).
"""

import math

import re

from oslo_config import cfg
from oslo_log import log as logging
from oslo_utils import strutils
from oslo_utils import units

from cinder.common import constants
from cinder import exception
from cinder.i18n import _
from cinder import interface
from cinder.volume import configuration
from cinder.volume import driver
from cinder.volume import volume_types
from cinder.volume import volume_utils

from basalt_cinder import api as basalt_api
from basalt_cinder import groups

LOG = logging.getLogger(__name__)

basalt_opts = [
    cfg.ListOpt('basalt_api_addresses',
                default=['http://127.0.0.1:8470'],
                help='URLs of the Basalt volume API (http://HOST:PORT or https://HOST:PORT), '
                     'tried in turn when one cannot be reached. A bare HOST:PORT means http.'),
    cfg.StrOpt('basalt_api_token',
               secret=True,
               help='Bearer token for the volume API: the node\'s admin token (api.admin-token, '
                    'or the file <data-dir>/api-admin-token the node writes at first start).'),
    cfg.StrOpt('basalt_api_verify_tls',
               default='true',
               help='For https addresses: "true" to verify the node\'s certificate against the '
                    'system CAs, "false" not to verify it, or the path of a CA bundle (PEM) to '
                    'verify it against.'),
    cfg.IntOpt('basalt_api_timeout',
               default=60, min=1,
               help='Seconds to wait for the volume API to connect and to answer each request. '
                    'Keep it above 30: a node answers a change within about 20 s, either done or '
                    'cancelled (HTTP 503, nothing changed), so the driver always learns which.'),
    cfg.BoolOpt('basalt_default_compression',
                default=None,
                help='Whether new volumes are compressed when their volume type has no '
                     'basalt:compression extra spec. Unset: the node\'s default.'),
    cfg.IntOpt('basalt_default_replicas',
               default=None, min=1, max=3,
               help='Copies kept of new volumes when their volume type has no basalt:replicas '
                    'extra spec. Unset: the node\'s default (1; a single node keeps only 1).'),
]

CONF = cfg.CONF
CONF.register_opts(basalt_opts, group=configuration.SHARED_CONF_GROUP)


def list_opts():
    """For oslo-config-generator (entry point oslo.config.opts: basalt_cinder)."""
    return [('backend', basalt_opts)]

EXTRA_SPEC_COMPRESSION = 'basalt:compression'
EXTRA_SPEC_REPLICAS = 'basalt:replicas'

# Cinder's QoS spec keys and the node's fields they set; each also has a *_per_gb variant,
# multiplied by the volume's size in GiB.
QOS_SPEC_FIELDS = {
    'total_iops_sec': 'totalIops',
    'read_iops_sec': 'readIops',
    'write_iops_sec': 'writeIops',
    'total_bytes_sec': 'totalBytesPerSec',
    'read_bytes_sec': 'readBytesPerSec',
    'write_bytes_sec': 'writeBytesPerSec',
}
# Seconds' worth of each limit an idle volume may spend at full speed (the node's burstSeconds).
QOS_SPEC_BURST = 'burst_seconds'
QOS_MAX_BURST_SECONDS = 3600
QOS_CONSUMERS = ('back-end', 'both')
LOCATION_PREFIX = 'basalt:'
# The Basalt project of volumes made outside Cinder (bin/basalt, the API's un-prefixed routes).
DEFAULT_PROJECT = 'default'
UNMANAGED_PREFIX = 'unmanaged-'
# What Cinder names its volumes (volume_name_template "volume-%s"): a node volume with such a
# name belongs to a Cinder, this one or another, and is not offered for managing.
_CINDER_VOLUME_NAME = re.compile(r'volume-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}')


class BasaltCapacityError(exception.VolumeBackendAPIException):
    """The node has not enough space (API status 507)."""


class BasaltConflictError(exception.VolumeBackendAPIException):
    """The API refused a request that conflicts with an existing object (API status 409)."""


@interface.volumedriver
class BasaltDriver(groups.GroupsMixin, driver.VolumeDriver):
    """Basalt NVMe/TCP block storage.

    Version history:
        1.0.0 - volumes, snapshots, clones, extend, revert, NVMe/TCP attach via os-brick
        1.1.0 - back-end QoS specs (IOPS and bytes per second, per GB) as the node's volume limits
        1.2.0 - multi-attach, retype in place (compression, QoS), manage/unmanage existing volumes
    """

    VERSION = '1.2.0'
    VENDOR = 'Basalt'
    CI_WIKI_NAME = 'Basalt_CI'
    # Every call is a stateless, idempotent request to the node: several cinder-volume
    # services can share a backend.
    SUPPORTS_ACTIVE_ACTIVE = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.configuration:
            self.configuration.append_config_values(basalt_opts)
        self.client = None
        self._stats = {}

    @staticmethod
    def get_driver_options():
        return basalt_opts

    # --- setup --------------------------------------------------------------------------------

    def do_setup(self, context):
        conf = self.configuration
        addresses = [a if '://' in a else 'http://' + a
                     for a in (conf.basalt_api_addresses or []) if a.strip()]
        if not addresses:
            raise exception.InvalidConfigurationValue(option='basalt_api_addresses', value='')
        if not conf.basalt_api_token:
            raise exception.InvalidConfigurationValue(option='basalt_api_token', value='')
        verify = self._verify_tls(conf.basalt_api_verify_tls)
        try:
            self.client = basalt_api.VolumeApi(addresses, token=conf.basalt_api_token,
                                               timeout=conf.basalt_api_timeout, verify=verify)
        except ValueError as e:
            raise exception.InvalidConfigurationValue(option='basalt_api_addresses',
                                                      value=str(e))
        LOG.info('Basalt driver %s using the volume API at %s', self.VERSION,
                 ', '.join(addresses))

    @staticmethod
    def _verify_tls(value):
        if value is None or value == '':
            return True
        text = str(value).strip()
        if text.lower() in ('true', 'yes', 'on', '1'):
            return True
        if text.lower() in ('false', 'no', 'off', '0'):
            return False
        return text  # a CA bundle path

    def check_for_setup_error(self):
        if self.client is None:
            raise exception.VolumeBackendAPIException(data=_('do_setup did not run'))
        # /stats needs a valid token: this checks the address, TLS and the token at once.
        self._call(self.client.stats)

    # --- stats --------------------------------------------------------------------------------

    def get_volume_stats(self, refresh=False):
        if refresh or not self._stats:
            self._update_volume_stats()
        return self._stats

    def _backend_name(self):
        return self.configuration.safe_get('volume_backend_name') or 'basalt'

    def _update_volume_stats(self):
        backend = self._backend_name()
        try:
            node = self._capacity()
        except exception.VolumeBackendAPIException as e:
            # Keep reporting, but with no free space, so that the scheduler stays away.
            LOG.error('Basalt backend %s: cannot read its capacity: %s', backend, e)
            node = None
        if node is None:
            total = free = provisioned = 0
            ratio = 1.0
            volumes = 0
        else:
            total = node.get('totalBytes', 0) / units.Gi
            free = node.get('freeBytes', 0) / units.Gi
            provisioned = node.get('provisionedBytes', 0) / units.Gi
            ratio = node.get('maxOversubscriptionRatio') or 1.0
            volumes = node.get('volumes', 0)
        pool = {
            'pool_name': backend,
            'total_capacity_gb': round(total, 2),
            'free_capacity_gb': round(free, 2),
            'provisioned_capacity_gb': round(provisioned, 2),
            'allocated_capacity_gb': round(provisioned, 2),
            'reserved_percentage': self.configuration.safe_get('reserved_percentage') or 0,
            'max_over_subscription_ratio': ratio,
            'thin_provisioning_support': True,
            'thick_provisioning_support': False,
            'total_volumes': volumes,
            'multiattach': True,
            'online_extend_support': True,
            'QoS_support': True,
            'compression_support': True,
            'consistent_group_snapshot_enabled': True,
            'location_info': 'basalt:%s' % ','.join(self.client.urls),
            'backend_state': 'up' if node is not None else 'down',
        }
        self._stats = {
            'volume_backend_name': backend,
            'vendor_name': self.VENDOR,
            'driver_version': self.VERSION,
            'storage_protocol': constants.NVMEOF_TCP,
            'sparse_copy_volume': True,
            'pools': [pool],
        }

    def _capacity(self):
        """The node's stats, with the capacity, provisioned size and volume count of its cluster in
        place of its own when it is in one: any node places volumes on every node."""
        node = self._call(self.client.stats)
        try:
            cluster = self.client.cluster()
        except basalt_api.BasaltApiError as e:
            if e.status == 404:  # the node runs alone
                return node
            raise _cinder_error(e)
        return dict(node, totalBytes=cluster['totalBytes'], freeBytes=cluster['freeBytes'],
                    provisionedBytes=cluster['provisionedBytes'], volumes=cluster['volumes'])

    def get_pool(self, volume):
        return self._backend_name()

    # --- volumes ------------------------------------------------------------------------------

    def create_volume(self, volume):
        project = volume.project_id
        created = self._call(self.client.create_volume, volume.name, self._bytes(volume.size),
                             project=project, **self._volume_options(volume))
        return self._model_update(created, project)

    def create_volume_from_snapshot(self, volume, snapshot):
        project = self._snapshot_project(snapshot)
        source = self._snapshot_id(snapshot)
        if source is None:
            raise exception.SnapshotNotFound(snapshot_id=snapshot.id)
        created = self._call(self.client.create_volume, volume.name, self._bytes(volume.size),
                             project=project, source_snapshot_id=source,
                             missing=exception.SnapshotNotFound(snapshot_id=snapshot.id),
                             **self._volume_options(volume))
        return self._model_update(created, project)

    def create_cloned_volume(self, volume, src_vref):
        project = self._volume_project(src_vref)
        source = self._volume_id(src_vref)
        if source is None:
            raise exception.VolumeNotFound(volume_id=src_vref.id)
        created = self._call(self.client.create_volume, volume.name, self._bytes(volume.size),
                             project=project, source_volume_id=source,
                             missing=exception.VolumeNotFound(volume_id=src_vref.id),
                             **self._volume_options(volume))
        return self._model_update(created, project)

    def delete_volume(self, volume):
        project = self._volume_project(volume)
        volume_id = self._volume_id(volume)
        if volume_id is None:
            LOG.info('Basalt volume %s of project %s does not exist: nothing to delete',
                     volume.name, project)
            return
        self._call(self.client.delete_volume, volume_id, project=project)

    def extend_volume(self, volume, new_size):
        volume_id = self._require_volume_id(volume)
        project = self._volume_project(volume)
        qos = self._qos(volume.volume_type_id, new_size)
        self._call(self.client.extend_volume, volume_id, self._bytes(new_size), project=project,
                   missing=exception.VolumeNotFound(volume_id=volume.id))
        if qos is not None:
            # Per-GB limits follow the new size; plain ones are sent again, unchanged.
            self._call(self.client.set_qos, volume_id, qos, project=project,
                       missing=exception.VolumeNotFound(volume_id=volume.id))

    def revert_to_snapshot(self, context, volume, snapshot):
        snapshot_id = self._snapshot_id(snapshot)
        if snapshot_id is None:
            raise exception.SnapshotNotFound(snapshot_id=snapshot.id)
        self._call(self.client.revert_volume, self._require_volume_id(volume), snapshot_id,
                   project=self._volume_project(volume),
                   missing=exception.SnapshotNotFound(snapshot_id=snapshot.id))

    # --- snapshots ----------------------------------------------------------------------------

    def create_snapshot(self, snapshot):
        project = self._volume_project(snapshot.volume)
        created = self._call(self.client.create_snapshot, snapshot.name,
                             self._require_volume_id(snapshot.volume), project=project,
                             missing=exception.VolumeNotFound(volume_id=snapshot.volume_id))
        return {'provider_id': created['id'],
                'provider_location': LOCATION_PREFIX + project}

    def delete_snapshot(self, snapshot):
        project = self._snapshot_project(snapshot)
        snapshot_id = self._snapshot_id(snapshot)
        if snapshot_id is None:
            LOG.info('Basalt snapshot %s of project %s does not exist: nothing to delete',
                     snapshot.name, project)
            return
        self._call(self.client.delete_snapshot, snapshot_id, project=project)

    # --- exports and connections --------------------------------------------------------------

    def ensure_export(self, context, volume):
        pass

    def create_export(self, context, volume, connector):
        pass

    def remove_export(self, context, volume):
        pass

    def validate_connector(self, connector):
        if not connector or not connector.get('nqn'):
            raise exception.InvalidConnectorException(missing='nqn')
        if not is_valid_nqn(connector['nqn']):
            raise exception.InvalidConnectorException(
                missing=_('a valid NVMe host NQN (got %r)') % connector['nqn'])

    def initialize_connection(self, volume, connector, **kwargs):
        """Allows the connector's host NQN to see the volume; returns os-brick's properties."""
        self.validate_connector(connector)
        host_nqn = connector['nqn']
        project = self._volume_project(volume)
        exported = self._call(self.client.add_host, self._require_volume_id(volume), host_nqn,
                              project=project,
                              missing=exception.VolumeNotFound(volume_id=volume.id))
        portals = [[p['address'], str(p['port']), p.get('transport', 'tcp')]
                   for p in exported.get('portals', [])]
        if not portals:
            raise exception.VolumeBackendAPIException(
                data=_('Basalt volume %s has no portals') % volume.name)
        data = {
            'target_nqn': exported['nqn'],
            'portals': portals,
            'vol_uuid': exported['uuid'],
            'volume_nguid': exported.get('nguid'),
            'ns_id': str(exported['nsid']),
            'host_nqn': host_nqn,
            'discard': True,
        }
        LOG.debug('Basalt volume %s exported to %s: %s', volume.name, host_nqn, data)
        return {'driver_volume_type': 'nvmeof', 'data': data}

    def terminate_connection(self, volume, connector, **kwargs):
        """Stops the connector's host seeing the volume; no connector (force detach): every host.

        With multi-attach, several attachments may come from one host (instances on the same
        compute host share its NQN and its NVMe connection): the host keeps the volume until the
        last of them goes, and True tells Cinder (and os-brick) that the connection is shared.
        """
        if connector is not None:
            self.validate_connector(connector)
            sharing = _attachments_of_host(volume, connector['nqn'])
            if len(sharing) > 1:
                LOG.info('Basalt volume %s stays exported to %s: %d attachments of that host remain',
                         volume.name, connector['nqn'], len(sharing) - 1)
                return True
        project = self._volume_project(volume)
        volume_id = self._volume_id(volume)
        if volume_id is None:
            LOG.info('Basalt volume %s is gone: no host to remove', volume.name)
            return False
        try:
            if connector is None:
                LOG.info('Force detach of %s: removing every host', volume.name)
                self._call(self.client.set_hosts, volume_id, [], project=project)
            else:
                self._call(self.client.remove_host, volume_id, connector['nqn'], project=project)
        except exception.NotFound:
            LOG.info('Basalt volume %s is gone: no host to remove', volume.name)
        return False

    # --- retype -------------------------------------------------------------------------------

    def retype(self, context, volume, new_type, diff, host):
        """Gives the volume the new type's compression and QoS in place, on the node.

        Cinder calls this only within one backend and without an encryption change. Returns
        (True, None) when done; (False, None) when the types differ in what the node cannot
        change in place (retype_blockers), so that Cinder migrates the volume if the request's
        migration policy allows it. Without a compression spec or default in the new type, the
        volume keeps its compression; without back-end QoS, it loses its limits.
        """
        blockers = retype_blockers(diff, self.configuration.basalt_default_replicas)
        if blockers:
            LOG.info('Retype of %s needs a migration: %s', volume.name, '; '.join(blockers))
            return False, None
        type_id = new_type['id'] if new_type else None
        options = self._type_options(type_id, volume.size)
        volume_id = self._require_volume_id(volume)
        project = self._volume_project(volume)
        missing = exception.VolumeNotFound(volume_id=volume.id)
        if options['compression'] is not None:
            self._call(self.client.update_volume, volume_id, compression=options['compression'],
                       project=project, missing=missing)
        self._call(self.client.set_qos, volume_id, options['qos'] or {}, project=project,
                   missing=missing)
        LOG.info('Retyped %s in place: compression %s, QoS %s', volume.name,
                 options['compression'], options['qos'])
        return True, None

    # --- manage and unmanage ------------------------------------------------------------------

    def manage_existing(self, volume, existing_ref):
        """Takes a node volume over: it gets the Cinder volume's name, type compression and QoS."""
        found, project = self._existing(volume, existing_ref)
        if found['name'] != volume.name:  # else an interrupted manage of this volume, repeated
            if _CINDER_VOLUME_NAME.fullmatch(found['name']):
                raise exception.ManageExistingAlreadyManaged(volume_ref=found['id'])
            reason = _not_safe_reason(found)
            if reason:
                raise exception.ManageExistingInvalidReference(existing_ref=existing_ref,
                                                               reason=reason)
        options = self._type_options(volume.volume_type_id, volume.size)
        self._call(self.client.update_volume, found['id'], name=volume.name,
                   compression=options['compression'], project=project)
        self._call(self.client.set_qos, found['id'], options['qos'] or {}, project=project)
        LOG.info('Managing Basalt volume %s of project %s (was %s) as %s', found['id'], project,
                 found['name'], volume.name)
        return self._model_update(found, project)

    def manage_existing_get_size(self, volume, existing_ref):
        """The node volume's size in GiB; a size that is not whole GiB is refused, not rounded."""
        found, _project = self._existing(volume, existing_ref)
        if found['sizeBytes'] % units.Gi:
            raise exception.ManageExistingInvalidReference(
                existing_ref=existing_ref, reason=_not_whole_gib(found))
        return found['sizeBytes'] // units.Gi

    def unmanage(self, volume):
        """Leaves the volume on the node, renamed unmanaged-<Cinder volume id>, so that its name
        no longer claims to be a Cinder volume."""
        volume_id = self._volume_id(volume)
        if volume_id is None:
            LOG.info('Basalt volume %s is gone: nothing to unmanage', volume.name)
            return
        name = UNMANAGED_PREFIX + volume.id
        try:
            self._call(self.client.update_volume, volume_id, name=name,
                       project=self._volume_project(volume))
        except exception.NotFound:
            LOG.info('Basalt volume %s is gone: nothing to unmanage', volume.name)
            return
        LOG.info('Unmanaged %s: Basalt volume %s is now called %s', volume.name, volume_id, name)

    def get_manageable_volumes(self, cinder_volumes, marker, limit, offset, sort_keys,
                               sort_dirs):
        """The volumes of the node's default project (made outside Cinder), each with why it
        cannot be managed, if it cannot, and the Cinder volume it is, if it is one."""
        managed = {v.provider_id: v.id for v in cinder_volumes if v.provider_id}
        named = {v.name: v.id for v in cinder_volumes}
        entries = []
        for found in self._call(self.client.list_volumes, project=DEFAULT_PROJECT):
            cinder_id = managed.get(found['id']) or named.get(found['name'])
            if cinder_id:
                reason = _('already managed')
            elif _CINDER_VOLUME_NAME.fullmatch(found['name']):
                reason = _('named like a Cinder volume: another Cinder may manage it')
            else:
                reason = _not_safe_reason(found)
            entries.append({
                'reference': {'source-id': found['id']},
                'size': int(math.ceil(found['sizeBytes'] / units.Gi)),
                'safe_to_manage': reason is None,
                'reason_not_safe': reason,
                'cinder_id': cinder_id,
                'extra_info': {'name': found['name']},
            })
        return volume_utils.paginate_entries_list(entries, marker, limit, offset, sort_keys,
                                                  sort_dirs)

    def _existing(self, volume, existing_ref):
        """The node volume (and its project) an existing_ref names, looked for in the Cinder
        volume's project, then the default project."""
        ref = existing_ref or {}
        if not ref.get('source-id') and not ref.get('source-name'):
            raise exception.ManageExistingInvalidReference(
                existing_ref=existing_ref,
                reason=_('give source-id (a Basalt volume id) or source-name (its name)'))
        for project in dict.fromkeys((volume.project_id, DEFAULT_PROJECT)):
            try:
                if ref.get('source-id'):
                    found = self._call(self.client.get_volume, ref['source-id'], project=project,
                                       missing=exception.NotFound())
                else:
                    found = (self._call(self.client.find_volume, ref['source-name'],
                                        project=project)
                             or self._call(self.client.find_volume, volume.name, project=project))
            except exception.NotFound:
                found = None
            except ValueError as e:  # an id that cannot be a path segment
                raise exception.ManageExistingInvalidReference(existing_ref=existing_ref,
                                                               reason=str(e))
            if found:
                return found, project
        raise exception.ManageExistingInvalidReference(
            existing_ref=existing_ref,
            reason=_('no such Basalt volume in project %(project)s or %(default)s')
            % {'project': volume.project_id, 'default': DEFAULT_PROJECT})

    # --- helpers ------------------------------------------------------------------------------

    @staticmethod
    def _bytes(size_gb):
        return int(size_gb) * units.Gi

    @staticmethod
    def _model_update(created, project):
        return {'provider_id': created['id'], 'provider_location': LOCATION_PREFIX + project}

    @staticmethod
    def _project_from(obj, fallback):
        location = getattr(obj, 'provider_location', None)
        if location and location.startswith(LOCATION_PREFIX):
            return location[len(LOCATION_PREFIX):]
        return fallback

    def _volume_project(self, volume):
        return self._project_from(volume, volume.project_id)

    def _snapshot_project(self, snapshot):
        location = getattr(snapshot, 'provider_location', None)
        if location and location.startswith(LOCATION_PREFIX):
            return location[len(LOCATION_PREFIX):]
        return self._volume_project(snapshot.volume)

    def _volume_id(self, volume):
        """The Basalt id of a Cinder volume, or None if it has none (does not exist)."""
        if getattr(volume, 'provider_id', None):
            return volume.provider_id
        found = self._call(self.client.find_volume, volume.name,
                           project=self._volume_project(volume))
        return found['id'] if found else None

    def _require_volume_id(self, volume):
        volume_id = self._volume_id(volume)
        if volume_id is None:
            raise exception.VolumeNotFound(volume_id=volume.id)
        return volume_id

    def _snapshot_id(self, snapshot):
        if getattr(snapshot, 'provider_id', None):
            return snapshot.provider_id
        found = self._call(self.client.find_snapshot, snapshot.name,
                           project=self._snapshot_project(snapshot))
        return found['id'] if found else None

    @staticmethod
    def _qos(type_id, size_gb):
        """The node's limits for a volume type at size_gb, or None if it has no back-end QoS."""
        if not type_id:
            return None
        found = volume_types.get_volume_type_qos_specs(type_id) or {}
        return qos_limits(found.get('qos_specs'), size_gb)

    def _volume_options(self, volume):
        return self._type_options(volume.volume_type_id, volume.size)

    def _type_options(self, type_id, size_gb):
        """compression, replicas and QoS of a volume type at size_gb, else the defaults."""
        specs = {}
        if type_id:
            specs = volume_types.get_volume_type_extra_specs(type_id) or {}
        compression = self.configuration.basalt_default_compression
        replicas = self.configuration.basalt_default_replicas
        if EXTRA_SPEC_COMPRESSION in specs:
            compression = _bool_spec(specs[EXTRA_SPEC_COMPRESSION])
        if EXTRA_SPEC_REPLICAS in specs:
            replicas = _replicas_spec(specs[EXTRA_SPEC_REPLICAS])
        return {'compression': compression, 'replicas': replicas, 'qos': self._qos(type_id, size_gb)}

    @staticmethod
    def _call(method, *args, missing=None, **kwargs):
        """Calls the API; maps its errors to Cinder exceptions (404: missing, if given)."""
        try:
            return method(*args, **kwargs)
        except basalt_api.BasaltApiError as e:
            if e.status == 404 and missing is not None:
                raise missing
            raise _cinder_error(e)


def _bool_spec(value):
    text = str(value).strip()
    if text.lower().startswith('<is>'):
        text = text[4:].strip()
    try:
        return strutils.bool_from_string(text, strict=True)
    except ValueError:
        raise exception.InvalidVolumeType(
            reason=_('%(key)s must be a boolean, not %(value)r')
            % {'key': EXTRA_SPEC_COMPRESSION, 'value': value})


def _replicas_spec(value):
    try:
        replicas = int(str(value).strip())
    except ValueError:
        replicas = 0
    if not 1 <= replicas <= 3:
        raise exception.InvalidVolumeType(
            reason=_('%(key)s must be 1, 2 or 3, not %(value)r')
            % {'key': EXTRA_SPEC_REPLICAS, 'value': value})
    return replicas


def _attachments_of_host(volume, host_nqn):
    """The volume's attachments (Cinder still lists the one being detached) from host_nqn."""
    attachments = volume.volume_attachment or []
    return [a for a in attachments
            if a.attach_status != 'detached' and (a.connector or {}).get('nqn') == host_nqn]


def _not_whole_gib(found):
    size = found['sizeBytes']
    return (_('its size, %(size)d bytes, is not a whole number of GiB: extend it to %(gib)d GiB '
              'first (bin/basalt volume extend %(id)s --size %(gib)dGiB)')
            % {'size': size, 'gib': -(-size // units.Gi), 'id': found['id']})


def _not_safe_reason(found):
    """Why Cinder should not take over a node volume (not one of Cinder's), or None."""
    if found['sizeBytes'] % units.Gi:
        return _not_whole_gib(found)
    if found.get('hosts'):
        return (_('hosts may use it (%s): remove them from its host list first')
                % ', '.join(found['hosts']))
    return None


def retype_blockers(diff, default_replicas=None):
    """What in a retype's diff the node cannot change in place (a list of reasons; empty: none).

    diff is Cinder's volume_types.volume_types_diff: {'extra_specs': {key: (old, new)},
    'qos_specs': {...}, 'encryption': {...}}. Compression and QoS change in place; the number of
    replicas and encryption do not. A key of another backend or of the scheduler is no concern of
    the node's. An invalid new value of a Basalt spec is refused with InvalidVolumeType.
    """
    blockers = []
    if (diff or {}).get('encryption'):
        blockers.append(_('encryption changes'))
    specs = (diff or {}).get('extra_specs') or {}
    if EXTRA_SPEC_COMPRESSION in specs:
        new = specs[EXTRA_SPEC_COMPRESSION][1]
        if new is not None:
            _bool_spec(new)
    if EXTRA_SPEC_REPLICAS in specs:
        old, new = specs[EXTRA_SPEC_REPLICAS]
        effective = [_replicas_spec(v) if v is not None else (default_replicas or 1) for v in (old, new)]
        if effective[0] != effective[1]:
            blockers.append(_('%(key)s changes from %(old)d to %(new)d')
                            % {'key': EXTRA_SPEC_REPLICAS, 'old': effective[0], 'new': effective[1]})
    return blockers


def qos_limits(qos_specs, size_gb):
    """The node's qos object for a Cinder QoS specs entity at size_gb, or None.

    None when there are no specs or their consumer is "front-end" (enforced by Nova, not here).
    Every figure is set (0 = no limit), so that sending it replaces the volume's limits. A figure
    given both plainly and per GB, or a value that is not a non-negative number, is refused with
    InvalidQoSSpecs; keys of other backends are left alone.
    """
    if not qos_specs or qos_specs.get('consumer') not in QOS_CONSUMERS:
        return None
    specs = qos_specs.get('specs') or {}
    limits = {field: 0 for field in QOS_SPEC_FIELDS.values()}
    for key, field in QOS_SPEC_FIELDS.items():
        per_gb = key + '_per_gb'
        if key in specs and per_gb in specs:
            raise exception.InvalidQoSSpecs(
                reason=_('give %(key)s or %(per_gb)s, not both') % {'key': key, 'per_gb': per_gb})
        if key in specs:
            limits[field] = _qos_number(key, specs[key], integer=True)
        elif per_gb in specs:
            scaled = int(_qos_number(per_gb, specs[per_gb], integer=False) * size_gb)
            limits[field] = min(scaled, 2 ** 63 - 1)
    limits['burstSeconds'] = 0
    if QOS_SPEC_BURST in specs:
        burst = _qos_number(QOS_SPEC_BURST, specs[QOS_SPEC_BURST], integer=True)
        if burst > QOS_MAX_BURST_SECONDS:
            raise exception.InvalidQoSSpecs(
                reason=_('%(key)s must be at most %(max)d, not %(value)r')
                % {'key': QOS_SPEC_BURST, 'max': QOS_MAX_BURST_SECONDS, 'value': specs[QOS_SPEC_BURST]})
        limits['burstSeconds'] = burst
    return limits


def _qos_number(key, value, integer):
    """A spec's value as a non-negative int (integer) or float (a per-GB factor may be 0.5)."""
    text = str(value).strip()
    try:
        number = int(text) if integer else float(text)
    except ValueError:
        number = -1
    if not 0 <= number < 2 ** 63:
        raise exception.InvalidQoSSpecs(
            reason=_('%(key)s must be a non-negative %(kind)s, not %(value)r')
            % {'key': key, 'kind': _('integer') if integer else _('number'), 'value': value})
    return number


# The target's NQN grammar (nvmetcp's Nqn): at most 223 bytes of UTF-8, the UUID form or
# nqn.yyyy-mm.<reverse domain>[:<anything but a line terminator>].
_NQN_MAX_BYTES = 223
_NQN_UUID = re.compile(r'nqn\.2014-08\.org\.nvmexpress:uuid:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-'
                       r'[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}')
_NQN_DATE = re.compile(r'nqn\.\d{4}-(0[1-9]|1[0-2])\.[a-zA-Z0-9][a-zA-Z0-9.-]*[a-zA-Z0-9]'
                       r'(:[^\n\r\x85\u2028\u2029]+)?', re.ASCII)


def is_valid_nqn(nqn):
    """Whether the target would accept nqn as a host NQN; anything else never reaches a URL."""
    return (isinstance(nqn, str)
            and len(nqn.encode('utf-8')) <= _NQN_MAX_BYTES
            and (_NQN_UUID.fullmatch(nqn) is not None or _NQN_DATE.fullmatch(nqn) is not None))


class BasaltNotFound(exception.NotFound):
    message = _('Basalt object not found: %(reason)s')


def _cinder_error(error):
    text = str(error)
    if error.field:
        text = '%s (field %s)' % (text, error.field)
    status = error.status
    if status == 0:
        return exception.VolumeBackendAPIException(data=text)
    if status == 401:
        return exception.VolumeBackendAPIException(
            data=_('the volume API refused the token (basalt_api_token): %s') % text)
    if status == 404:
        return BasaltNotFound(reason=text)
    if status == 409:
        return BasaltConflictError(data=_('conflict: %s') % text)
    if status == 507:
        return BasaltCapacityError(data=_('insufficient capacity: %s') % text)
    if status == 400:
        return exception.VolumeBackendAPIException(data=_('invalid request: %s') % text)
    return exception.VolumeBackendAPIException(data='HTTP %d: %s' % (status, text))
