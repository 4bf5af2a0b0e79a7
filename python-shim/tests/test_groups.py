"""BasaltDriver's generic volume groups and group snapshots.

GroupsLiveTest runs against a live node (BASALT_API_URL and BASALT_API_TOKEN, as test-live.sh sets
them); GroupsFakeTest against tests/fake_basalt.py. Each class uses its own random project and
checks that it left nothing there.
"""

import unittest
import uuid
from unittest import mock

from tests import cinder_support as cs

CONSISTENT = {'consistent_group_snapshot_enabled': '<is> True'}


class GroupContract:
    url = token = None

    @classmethod
    def setUpClass(cls):
        cs.require_cinder()
        from basalt_cinder import api
        from cinder import context
        from cinder import exception
        from cinder import objects
        cls.objects = objects
        cls.context = context.get_admin_context()
        cls.exception = exception
        cls.project = uuid.uuid4().hex
        cls.driver = cs.new_driver(cls.url, cls.token)
        cls.api = api.VolumeApi(cls.url, token=cls.token, timeout=10)
        cls.group_specs = {}  # group type id -> specs
        patchers = [
            mock.patch('cinder.volume.volume_types.get_volume_type_extra_specs', return_value={}),
            mock.patch('cinder.volume.volume_types.get_volume_type_qos_specs',
                       return_value={'qos_specs': None}),
            mock.patch('cinder.volume.group_types.get_group_type_specs',
                       side_effect=lambda type_id, key=None: cls.group_specs.get(type_id, {}).get(key)),
        ]
        for patcher in patchers:
            patcher.start()
            cls.addClassCleanup(patcher.stop)

    def tearDown(self):
        for group in self.api.list_snapshot_groups(project=self.project):
            self.api.delete_snapshot_group(group['id'], project=self.project)
        for vol in self.api.list_volumes(project=self.project):
            self.api.delete_volume(vol['id'], project=self.project)
        for snap in self.api.list_snapshots(project=self.project):
            self.api.delete_snapshot(snap['id'], project=self.project)

    def assertNothingLeft(self):
        self.assertEqual([], self.api.list_snapshot_groups(project=self.project))
        self.assertEqual([], self.api.list_volumes(project=self.project))
        self.assertEqual([], self.api.list_snapshots(project=self.project))

    def group_type(self, specs):
        type_id = str(uuid.uuid4())
        self.group_specs[type_id] = specs
        return type_id

    def group(self, type_id):
        return self.objects.Group(self.context, id=str(uuid.uuid4()), project_id=self.project,
                                  group_type_id=type_id)

    def group_snapshot(self, group):
        return self.objects.GroupSnapshot(self.context, id=str(uuid.uuid4()), group_id=group.id,
                                          project_id=self.project, group_type_id=group.group_type_id)

    def volumes(self, count, **fields):
        made = []
        for _ in range(count):
            volume = cs.new_volume(self.project, **fields)
            made.append(cs.apply(volume, self.driver.create_volume(volume)))
        return made

    def test_stats_announce_consistent_group_snapshots(self):
        pool = self.driver.get_volume_stats(refresh=True)['pools'][0]
        self.assertTrue(pool['consistent_group_snapshot_enabled'])

    def test_consistent_group_snapshot_is_one_node_snapshot_group(self):
        group = self.group(self.group_type(CONSISTENT))
        self.assertEqual('available', self.driver.create_group(self.context, group)['status'])
        volumes = self.volumes(3)
        self.assertEqual((None, None, None), self.driver.update_group(self.context, group, volumes, []))
        group_snapshot = self.group_snapshot(group)
        snapshots = [cs.new_snapshot(v) for v in volumes]

        model, updates = self.driver.create_group_snapshot(self.context, group_snapshot, snapshots)
        self.assertEqual('available', model['status'])
        again = self.driver.create_group_snapshot(self.context, group_snapshot, snapshots)
        self.assertEqual(updates, again[1], 'a repeated call finds the group it made')
        [node_group] = self.api.list_snapshot_groups(project=self.project)
        self.assertEqual('group-snapshot-' + group_snapshot.id, node_group['name'])
        self.assertEqual([v.provider_id for v in volumes],
                         [m['sourceVolumeId'] for m in node_group['snapshots']])
        self.assertEqual([m['id'] for m in node_group['snapshots']], [u['provider_id'] for u in updates])
        self.assertEqual([s.id for s in snapshots], [u['id'] for u in updates])
        for snapshot, update in zip(snapshots, updates):
            cs.apply(snapshot, {k: v for k, v in update.items() if k in ('provider_id', 'provider_location')})

        with self.assertRaises(self.exception.VolumeBackendAPIException):
            self.driver.delete_snapshot(snapshots[0])  # a member goes only with its group

        restored_group = self.group(group.group_type_id)
        restored = [cs.new_volume(self.project, snapshot_id=s.id) for s in snapshots]
        model, volume_updates = self.driver.create_group_from_src(
            self.context, restored_group, restored, group_snapshot=group_snapshot, snapshots=snapshots)
        self.assertEqual([v.id for v in restored], [u['id'] for u in volume_updates])
        for volume, update in zip(restored, volume_updates):
            node_volume = self.api.get_volume(update['provider_id'], project=self.project)
            self.assertEqual(volume.name, node_volume['name'])
            cs.apply(volume, {k: v for k, v in update.items() if k in ('provider_id', 'provider_location')})
        self.assertEqual([s.provider_id for s in snapshots],
                         [self.api.get_volume(v.provider_id, project=self.project)['sourceSnapshotId']
                          for v in restored])

        model, snapshot_updates = self.driver.delete_group_snapshot(self.context, group_snapshot, snapshots)
        self.assertEqual('deleted', model['status'])
        self.assertEqual([], self.api.list_snapshots(project=self.project))
        self.driver.delete_group_snapshot(self.context, group_snapshot, snapshots)  # again: nothing left
        for g, members in ((group, volumes), (restored_group, restored)):
            model, volume_updates = self.driver.delete_group(self.context, g, members)
            self.assertEqual('deleted', model['status'])
            self.assertEqual(['deleted'] * len(members), [u['status'] for u in volume_updates])
        self.assertNothingLeft()

    def test_other_group_types_use_cinders_generic_snapshots(self):
        group = self.group(self.group_type({}))
        volumes = self.volumes(2)
        group_snapshot = self.group_snapshot(group)
        snapshots = [cs.new_snapshot(v) for v in volumes]
        with self.assertRaises(NotImplementedError):
            self.driver.create_group_snapshot(self.context, group_snapshot, snapshots)
        with self.assertRaises(NotImplementedError):
            self.driver.delete_group_snapshot(self.context, group_snapshot, snapshots)
        self.assertEqual([], self.api.list_snapshot_groups(project=self.project))
        self.driver.delete_group(self.context, group, volumes)
        self.assertNothingLeft()

    def test_group_from_a_source_group_is_cloned_at_one_instant_through_a_temporary_group(self):
        source_group = self.group(self.group_type(CONSISTENT))
        sources = self.volumes(2)
        group = self.group(source_group.group_type_id)
        clones = [cs.new_volume(self.project, source_volid=s.id) for s in sources]
        with mock.patch.object(self.driver.client, 'create_snapshot_group',
                               wraps=self.driver.client.create_snapshot_group) as instant:
            model, updates = self.driver.create_group_from_src(
                self.context, group, clones, source_group=source_group, source_vols=sources)
        instant.assert_called_once_with('group-clone-' + group.id, [s.provider_id for s in sources],
                                        project=self.project)
        self.assertEqual([], self.api.list_snapshot_groups(project=self.project), 'the temporary group is gone')
        self.assertEqual([], self.api.list_snapshots(project=self.project))
        self.assertEqual([c.name for c in clones],
                         [self.api.get_volume(u['provider_id'], project=self.project)['name'] for u in updates])
        for clone, update in zip(clones, updates):
            cs.apply(clone, {k: v for k, v in update.items() if k in ('provider_id', 'provider_location')})
        self.driver.delete_group(self.context, group, clones)
        self.driver.delete_group(self.context, source_group, sources)
        self.assertNothingLeft()

    def test_a_failure_part_way_leaves_no_orphan_on_the_node(self):
        group = self.group(self.group_type(CONSISTENT))
        volumes = self.volumes(2)
        group_snapshot = self.group_snapshot(group)
        snapshots = [cs.new_snapshot(v) for v in volumes]
        _, updates = self.driver.create_group_snapshot(self.context, group_snapshot, snapshots)
        for snapshot, update in zip(snapshots, updates):
            cs.apply(snapshot, {k: v for k, v in update.items() if k in ('provider_id', 'provider_location')})
        targets = [cs.new_volume(self.project, snapshot_id=s.id) for s in snapshots]
        real = self.driver.client.create_volume
        calls = []

        def second_fails(*args, **kwargs):
            calls.append(args)
            if len(calls) == 2:
                raise self.api_error(507, 'insufficient capacity')
            return real(*args, **kwargs)

        with mock.patch.object(self.driver.client, 'create_volume', side_effect=second_fails):
            with self.assertRaises(self.exception.VolumeBackendAPIException):
                self.driver.create_group_from_src(self.context, self.group(group.group_type_id), targets,
                                                  group_snapshot=group_snapshot, snapshots=snapshots)
        self.assertEqual(sorted(v.provider_id for v in volumes),
                         sorted(v['id'] for v in self.api.list_volumes(project=self.project)),
                         'the volume made before the failure is deleted')
        self.driver.delete_group_snapshot(self.context, group_snapshot, snapshots)
        self.driver.delete_group(self.context, group, volumes)
        self.assertNothingLeft()

    def test_a_lost_answer_to_the_temporary_group_leaves_no_orphan(self):
        """The node made the temporary group but its answer was lost: the driver finds it by name and
        deletes it. Shown failing (the group left on the node) without that clean-up."""
        source_group = self.group(self.group_type(CONSISTENT))
        sources = self.volumes(2)
        clones = [cs.new_volume(self.project, source_volid=s.id) for s in sources]
        real = self.driver.client.create_snapshot_group

        def made_but_lost(*args, **kwargs):
            real(*args, **kwargs)
            raise self.api_error(0, 'POST /snapshot-groups: volume API unreachable: timed out')

        with mock.patch.object(self.driver.client, 'create_snapshot_group', side_effect=made_but_lost):
            with self.assertRaises(self.exception.VolumeBackendAPIException):
                self.driver.create_group_from_src(self.context, self.group(source_group.group_type_id), clones,
                                                  source_group=source_group, source_vols=sources)
        self.assertEqual([], self.api.list_snapshot_groups(project=self.project))
        self.assertEqual([], self.api.list_snapshots(project=self.project))
        self.driver.delete_group(self.context, source_group, sources)
        self.assertNothingLeft()

    @property
    def api_error(self):
        from basalt_cinder import api
        return api.BasaltApiError


class GroupsLiveTest(cs.LiveNode, GroupContract, unittest.TestCase):
    pass


class GroupsFakeTest(cs.FakeNode, GroupContract, unittest.TestCase):
    pass


if __name__ == '__main__':
    unittest.main()
