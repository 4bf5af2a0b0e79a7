"""Cinder generic volume groups and group snapshots for the Basalt driver.

The node keeps no volume groups: a Cinder group is only Cinder's. What the node adds is the
crash-consistent snapshot group: snapshots of several volumes taken at one instant (every write
acknowledged before the request is in all of them, none issued after it in any). A group snapshot
of a group whose type has consistent_group_snapshot_enabled="<is> True" becomes one node snapshot
group, named "group-snapshot-<id>" in the volumes' Basalt project; its member snapshots are the
Cinder snapshots (their provider_id). Other group types get Cinder's generic per-volume snapshots
(NotImplementedError tells the manager to use them).

A group made from a source group is cloned from a temporary snapshot group of the source volumes
("group-clone-<group id>"), so that its volumes too are one instant of their sources.

Every node request is idempotent by name, so a retried or repeated call makes nothing twice; a
failure part-way deletes what the call made before raising, so the node keeps no orphans.
"""

from oslo_log import log as logging

from cinder import exception
from cinder.i18n import _
from cinder.objects import fields
from cinder.volume import volume_utils

LOG = logging.getLogger(__name__)

GROUP_SNAPSHOT_PREFIX = 'group-snapshot-'
GROUP_CLONE_PREFIX = 'group-clone-'


class GroupsMixin:
    """The generic volume group calls of BasaltDriver; relies on its volume helpers."""

    def create_group(self, context, group):
        return {'status': fields.GroupStatus.AVAILABLE}

    def delete_group(self, context, group, volumes):
        """Deletes the group's volumes; one that fails is reported, the others still go."""
        updates = []
        failed = False
        for volume in volumes:
            try:
                self.delete_volume(volume)
                updates.append({'id': volume.id, 'status': 'deleted'})
            except exception.CinderException as e:
                LOG.error('Basalt: deleting volume %s of group %s failed: %s', volume.id, group.id, e)
                updates.append({'id': volume.id, 'status': 'error_deleting'})
                failed = True
        status = fields.GroupStatus.ERROR_DELETING if failed else fields.GroupStatus.DELETED
        return {'status': status}, updates

    def update_group(self, context, group, add_volumes=None, remove_volumes=None):
        # Membership is Cinder's alone; a group snapshot names its volumes when it is taken.
        return None, None, None

    def create_group_snapshot(self, context, group_snapshot, snapshots):
        if not volume_utils.is_group_a_cg_snapshot_type(group_snapshot):
            raise NotImplementedError()
        volumes = [snapshot.volume for snapshot in snapshots]
        project = self._group_project(volumes, group_snapshot)
        volume_ids = [self._require_volume_id(volume) for volume in volumes]
        created = self._call(self.client.create_snapshot_group,
                             GROUP_SNAPSHOT_PREFIX + group_snapshot.id, volume_ids, project=project)
        members = created['snapshots']
        LOG.info('Basalt snapshot group %s of volumes %s taken for group snapshot %s',
                 created['id'], volume_ids, group_snapshot.id)
        updates = [dict(self._model_update(member, project), id=snapshot.id,
                        status=fields.SnapshotStatus.AVAILABLE)
                   for snapshot, member in zip(snapshots, members)]
        return {'status': fields.GroupSnapshotStatus.AVAILABLE}, updates

    def delete_group_snapshot(self, context, group_snapshot, snapshots):
        """Deletes the node's snapshot group if there is one; else the generic per-snapshot path."""
        project = (self._snapshot_project(snapshots[0]) if snapshots
                   else group_snapshot.project_id)
        name = GROUP_SNAPSHOT_PREFIX + group_snapshot.id
        found = self._call(self.client.find_snapshot_group, name, project=project)
        if found is None and not volume_utils.is_group_a_cg_snapshot_type(group_snapshot):
            raise NotImplementedError()
        if found is not None:
            self._call(self.client.delete_snapshot_group, found['id'], project=project)
        updates = [{'id': snapshot.id, 'status': 'deleted'} for snapshot in snapshots]
        return {'status': fields.GroupSnapshotStatus.DELETED}, updates

    def create_group_from_src(self, context, group, volumes, group_snapshot=None, snapshots=None,
                              source_group=None, source_vols=None):
        """Volumes from a group snapshot's snapshots, or clones of a source group at one instant.

        Cinder passes snapshots (or source_vols) in the order of volumes.
        """
        if group_snapshot is not None:
            return None, self._volumes_from(volumes, snapshots, self.create_volume_from_snapshot)
        if source_group is None:
            raise exception.InvalidInput(reason=_('a group is made from a group snapshot or a group'))
        project = self._group_project(source_vols, source_group)
        name = GROUP_CLONE_PREFIX + group.id
        try:
            instant = self._call(self.client.create_snapshot_group, name,
                                 [self._require_volume_id(v) for v in source_vols], project=project)
        except exception.VolumeBackendAPIException:
            # An answer lost on the way back (a timeout, a dropped connection) may hide a group
            # the node made: it is found by its name.
            self._delete_snapshot_group_named(name, project)
            raise
        try:
            sources = [_Provided(self._model_update(member, project)) for member in instant['snapshots']]
            return None, self._volumes_from(volumes, sources, self.create_volume_from_snapshot)
        finally:
            self._call(self.client.delete_snapshot_group, instant['id'], project=project)

    def _delete_snapshot_group_named(self, name, project):
        try:
            found = self._call(self.client.find_snapshot_group, name, project=project)
            if found is not None:
                self._call(self.client.delete_snapshot_group, found['id'], project=project)
        except exception.CinderException as e:
            LOG.error('Basalt: could not delete snapshot group %s of project %s after a failure: %s',
                      name, project, e)

    def _volumes_from(self, volumes, sources, create):
        """create(volume, source) for each pair; on a failure the volumes made so far are deleted."""
        updates = []
        made = []
        try:
            for volume, source in zip(volumes, sources):
                model = create(volume, source)
                made.append((volume, model))
                updates.append(dict(model, id=volume.id, status='available'))
        except Exception:
            for volume, model in made:
                try:
                    orphan = _Provided(model)
                    self._call(self.client.delete_volume, orphan.provider_id,
                               project=self._project_from(orphan, volume.project_id))
                except exception.CinderException as e:
                    LOG.error('Basalt: could not delete volume %s after a failed group create: %s',
                              volume.id, e)
            raise
        return updates

    def _group_project(self, volumes, group):
        """The one Basalt project of the volumes: a node snapshot group never spans projects."""
        projects = {self._volume_project(volume) for volume in volumes}
        if len(projects) > 1:
            raise exception.VolumeBackendAPIException(
                data=_('the volumes of group %(group)s are in Basalt projects %(projects)s; a '
                       'consistent group snapshot needs them in one')
                % {'group': group.id, 'projects': sorted(projects)})
        return projects.pop() if projects else group.project_id


class _Provided:
    """A node object known only by its model update (provider_id, provider_location), read as
    the driver reads a Cinder volume or snapshot."""

    def __init__(self, model):
        self.id = model['provider_id']
        self.provider_id = model['provider_id']
        self.provider_location = model['provider_location']
