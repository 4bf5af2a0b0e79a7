"""BasaltDriver through its whole Cinder surface.

DriverLiveTest runs against a live node (BASALT_API_URL and BASALT_API_TOKEN, as test-live.sh
sets them); DriverFakeTest runs the same tests against tests/fake_basalt.py, so that the driver's
logic is also checked where no node runs. Each test class uses its own random project and checks
at the end that it left no volume or snapshot there.
"""

import unittest
import uuid
from unittest import mock

from tests import cinder_support as cs
from tests.test_qos import UNLIMITED, qos_specs

GiB = 1024 ** 3
HOST_A = 'nqn.2014-08.org.nvmexpress:uuid:' + str(uuid.uuid4())
HOST_B = 'nqn.2014-08.org.nvmexpress:uuid:' + str(uuid.uuid4())


def connector(nqn):
    return {'nqn': nqn, 'host': 'compute-1', 'uuid': str(uuid.uuid4()),
            'nvme_native_multipath': True, 'multipath': False}


class DriverContract:
    """The tests; subclasses provide cls.url and cls.token."""

    url = token = None

    @classmethod
    def setUpClass(cls):
        cs.require_cinder()
        from basalt_cinder import api
        cls.project = uuid.uuid4().hex
        cls.driver = cs.new_driver(cls.url, cls.token)
        cls.api = api.VolumeApi(cls.url, token=cls.token, timeout=10)
        cls.specs = {}
        patcher = mock.patch('cinder.volume.volume_types.get_volume_type_extra_specs',
                             side_effect=lambda type_id: cls.specs.get(type_id, {}))
        patcher.start()
        cls.addClassCleanup(patcher.stop)
        from cinder import exception
        cls.exception = exception
        cls.api_error = api.BasaltApiError
        cls.qos = {}  # QoS specs entity by volume type id
        qos_patcher = mock.patch('cinder.volume.volume_types.get_volume_type_qos_specs',
                                 side_effect=lambda type_id: {'qos_specs': cls.qos.get(type_id)})
        qos_patcher.start()
        cls.addClassCleanup(qos_patcher.stop)

    def tearDown(self):
        for vol in self.api.list_volumes(project=self.project):
            self.api.delete_volume(vol['id'], project=self.project)
        for snap in self.api.list_snapshots(project=self.project):
            self.api.delete_snapshot(snap['id'], project=self.project)

    def basalt_volume(self, volume):
        return self.api.get_volume(volume.provider_id, project=self.project)

    def create(self, size=1, type_id=None):
        volume = cs.new_volume(self.project, size=size, type_id=type_id)
        return cs.apply(volume, self.driver.create_volume(volume))

    def assertNothingLeft(self):
        self.assertEqual([], self.api.list_volumes(project=self.project))
        self.assertEqual([], self.api.list_snapshots(project=self.project))

    def test_setup_check_and_stats(self):
        self.driver.check_for_setup_error()
        stats = self.driver.get_volume_stats(refresh=True)
        self.assertEqual('basalt-test', stats['volume_backend_name'])
        self.assertEqual('NVMe-TCP', stats['storage_protocol'])
        self.assertEqual('Basalt', stats['vendor_name'])
        pool = stats['pools'][0]
        self.assertEqual('basalt-test', pool['pool_name'])
        self.assertGreater(pool['total_capacity_gb'], 0)
        self.assertGreaterEqual(pool['free_capacity_gb'], 0)
        self.assertTrue(pool['thin_provisioning_support'])
        self.assertFalse(pool['thick_provisioning_support'])
        self.assertGreaterEqual(pool['max_over_subscription_ratio'], 1)
        self.assertIn('provisioned_capacity_gb', pool)
        self.assertEqual('basalt-test', self.driver.get_pool(cs.new_volume(self.project)))

    def test_volume_lifecycle(self):
        volume = self.create(size=1)
        backend = self.basalt_volume(volume)
        self.assertEqual(volume.name, backend['name'])
        self.assertEqual(self.project, backend['project'])
        self.assertEqual(GiB, backend['sizeBytes'])
        self.assertEqual([], backend['hosts'])
        self.assertEqual('basalt:' + self.project, volume.provider_location)

        self.driver.extend_volume(volume, 2)
        volume.size = 2
        self.assertEqual(2 * GiB, self.basalt_volume(volume)['sizeBytes'])

        self.driver.delete_volume(volume)
        self.driver.delete_volume(volume)  # a second delete is not an error
        self.assertNothingLeft()

    def test_delete_of_a_volume_that_never_reached_the_node(self):
        self.driver.delete_volume(cs.new_volume(self.project))
        snap = cs.new_snapshot(cs.new_volume(self.project))
        self.driver.delete_snapshot(snap)

    def test_volume_found_by_name_without_provider_id(self):
        volume = self.create()
        basalt_id = volume.provider_id
        volume.provider_id = None
        volume.provider_location = None
        info = self.driver.initialize_connection(volume, connector(HOST_A))
        self.assertEqual(self.api.get_volume(basalt_id, project=self.project)['uuid'],
                         info['data']['vol_uuid'])
        self.driver.delete_volume(volume)
        self.assertNothingLeft()

    def test_a_create_whose_answer_was_lost_leaves_no_orphan(self):
        """The node made the volume but the driver saw a timeout, so Cinder stored no provider_id:
        Cinder's retry gets the same volume (idempotent by the Cinder volume's name), and the delete
        of the volume in error finds it by name. Shown failing (the volume left on the node) with
        the driver looking volumes up by provider_id only."""
        volume = cs.new_volume(self.project)
        real = self.driver.client.create_volume

        def made_but_lost(*args, **kwargs):
            real(*args, **kwargs)
            raise self.api_error(0, 'POST /volumes: volume API unreachable: timed out')

        with mock.patch.object(self.driver.client, 'create_volume', side_effect=made_but_lost):
            with self.assertRaises(self.exception.VolumeBackendAPIException):
                self.driver.create_volume(volume)
        self.assertIsNone(volume.provider_id)
        made = self.api.list_volumes(project=self.project)
        self.assertEqual([volume.name], [v['name'] for v in made])

        retried = cs.new_volume(self.project, id=volume.id)
        self.assertEqual(volume.name, retried.name)
        cs.apply(retried, self.driver.create_volume(retried))
        self.assertEqual(made[0]['id'], retried.provider_id, 'the retry found the volume, made none')
        self.assertEqual(1, len(self.api.list_volumes(project=self.project)))

        self.driver.delete_volume(volume)  # the volume in error: no provider_id
        self.assertNothingLeft()

    def test_extra_specs_and_defaults(self):
        type_id = str(uuid.uuid4())
        self.specs[type_id] = {'basalt:compression': '<is> True', 'basalt:replicas': '1',
                               'capabilities:foo': 'bar'}
        volume = self.create(type_id=type_id)
        backend = self.basalt_volume(volume)
        self.assertTrue(backend['compression'])
        self.assertEqual(1, backend['replicas'])
        plain = self.create()
        self.assertFalse(self.basalt_volume(plain)['compression'])

        from cinder import exception
        self.specs[type_id] = {'basalt:compression': 'maybe'}
        with self.assertRaises(exception.InvalidVolumeType):
            self.create(type_id=type_id)
        self.specs[type_id] = {'basalt:replicas': '4'}
        with self.assertRaises(exception.InvalidVolumeType):
            self.create(type_id=type_id)

    def test_snapshots_clones_and_revert(self):
        volume = self.create(size=1)
        snap = cs.new_snapshot(volume)
        cs.apply(snap, self.driver.create_snapshot(snap))
        backend_snap = self.api.get_snapshot(snap.provider_id, project=self.project)
        self.assertEqual(snap.name, backend_snap['name'])
        self.assertEqual(volume.provider_id, backend_snap['sourceVolumeId'])

        bigger = cs.new_volume(self.project, size=2)
        cs.apply(bigger, self.driver.create_volume_from_snapshot(bigger, snap))
        self.assertEqual(2 * GiB, self.basalt_volume(bigger)['sizeBytes'])
        self.assertEqual(snap.provider_id, self.basalt_volume(bigger)['sourceSnapshotId'])

        clone = cs.new_volume(self.project, size=1)
        cs.apply(clone, self.driver.create_cloned_volume(clone, volume))
        self.assertEqual(volume.provider_id, self.basalt_volume(clone)['sourceVolumeId'])

        self.driver.revert_to_snapshot(None, volume, snap)

        self.driver.delete_snapshot(snap)
        self.driver.delete_snapshot(snap)
        for v in (clone, bigger, volume):
            self.driver.delete_volume(v)
        self.assertNothingLeft()

    def test_admin_snapshot_of_another_projects_volume(self):
        volume = self.create()
        snap = cs.new_snapshot(volume, project=uuid.uuid4().hex)  # the admin's project
        cs.apply(snap, self.driver.create_snapshot(snap))
        self.assertEqual(self.project,
                         self.api.get_snapshot(snap.provider_id, project=self.project)['project'])
        other = cs.new_volume(uuid.uuid4().hex)
        cs.apply(other, self.driver.create_volume_from_snapshot(other, snap))
        self.assertEqual('basalt:' + self.project, other.provider_location)
        for obj in (other, volume):
            self.driver.delete_volume(obj)
        self.driver.delete_snapshot(snap)
        self.assertNothingLeft()

    def test_connections(self):
        from os_brick.initiator.connectors import nvmeof
        volume = self.create()
        self.driver.create_export(None, volume, connector(HOST_A))
        self.driver.ensure_export(None, volume)
        info = self.driver.initialize_connection(volume, connector(HOST_A))
        backend = self.basalt_volume(volume)
        self.assertEqual('nvmeof', info['driver_volume_type'])
        data = info['data']
        self.assertEqual(backend['nqn'], data['target_nqn'])
        self.assertEqual(backend['uuid'], data['vol_uuid'])
        self.assertEqual(backend['nguid'], data['volume_nguid'])
        self.assertEqual(str(backend['nsid']), data['ns_id'])
        self.assertEqual(HOST_A, data['host_nqn'])
        self.assertTrue(data['discard'])
        self.assertEqual([[p['address'], str(p['port']), 'tcp'] for p in backend['portals']],
                         data['portals'])
        self.assertEqual([HOST_A], backend['hosts'])

        # os-brick 6.1 reads it as the new-format single target, found by namespace UUID
        props = nvmeof.NVMeOFConnProps(dict(data))
        self.assertFalse(props.is_replicated)
        target = props.targets[0]
        self.assertEqual(backend['nqn'], target.nqn)
        self.assertEqual(backend['uuid'], target.uuid)
        self.assertEqual(HOST_A, target.host_nqn)
        self.assertEqual('tcp', target.portals[0].transport)
        self.assertTrue(props.discard)

        self.driver.initialize_connection(volume, connector(HOST_A))  # again: idempotent
        self.driver.initialize_connection(volume, connector(HOST_B))
        self.assertEqual([HOST_A, HOST_B], self.basalt_volume(volume)['hosts'])
        self.driver.terminate_connection(volume, connector(HOST_A))
        self.assertEqual([HOST_B], self.basalt_volume(volume)['hosts'])
        self.driver.terminate_connection(volume, connector(HOST_A))  # again: idempotent
        self.driver.initialize_connection(volume, connector(HOST_A))
        self.driver.terminate_connection(volume, None)  # force detach: every host
        self.assertEqual([], self.basalt_volume(volume)['hosts'])
        self.driver.remove_export(None, volume)

        from cinder import exception
        with self.assertRaises(exception.InvalidConnectorException):
            self.driver.initialize_connection(volume, {'host': 'no-nvme', 'initiator': 'iqn.x'})

        self.driver.delete_volume(volume)
        self.driver.terminate_connection(volume, connector(HOST_A))  # volume gone: not an error
        self.assertNothingLeft()

    def test_missing_objects(self):
        from cinder import exception
        ghost = cs.new_volume(self.project, provider_id=str(uuid.uuid4()))
        with self.assertRaises(exception.VolumeNotFound):
            self.driver.extend_volume(ghost, 2)
        with self.assertRaises(exception.VolumeNotFound):
            self.driver.initialize_connection(ghost, connector(HOST_A))
        with self.assertRaises(exception.VolumeNotFound):
            self.driver.create_snapshot(cs.new_snapshot(ghost))
        with self.assertRaises(exception.VolumeNotFound):
            self.driver.create_cloned_volume(cs.new_volume(self.project), ghost)
        unknown = cs.new_snapshot(ghost)
        unknown.provider_id = str(uuid.uuid4())
        with self.assertRaises(exception.SnapshotNotFound):
            self.driver.create_volume_from_snapshot(cs.new_volume(self.project), unknown)
        self.driver.delete_volume(ghost)
        self.driver.delete_snapshot(unknown)
        self.assertNothingLeft()

    # --- multi-attach ---

    def test_stats_say_multiattach_is_supported(self):
        self.assertTrue(self.driver.get_volume_stats(refresh=True)['pools'][0]['multiattach'])

    def test_a_host_keeps_a_multiattached_volume_until_its_last_attachment_goes(self):
        volume = self.create()
        # Two instances on host A, one on host B (a live migration's destination looks the same).
        for host in (HOST_A, HOST_A, HOST_B):
            cs.attach(volume, host)
            self.driver.initialize_connection(volume, connector(host))
        self.assertEqual([HOST_A, HOST_B], self.basalt_volume(volume)['hosts'])

        self.assertTrue(self.driver.terminate_connection(volume, connector(HOST_A)),
                        'the other instance on A shares the connection')
        self.assertEqual([HOST_A, HOST_B], self.basalt_volume(volume)['hosts'])
        volume.volume_attachment.objects.pop(0)  # what Cinder's finish_detach does

        self.assertFalse(self.driver.terminate_connection(volume, connector(HOST_B)))
        self.assertEqual([HOST_A], self.basalt_volume(volume)['hosts'], 'B goes, A stays')
        volume.volume_attachment.objects.pop()

        self.assertFalse(self.driver.terminate_connection(volume, connector(HOST_A)))
        self.assertEqual([], self.basalt_volume(volume)['hosts'])

    # --- retype ---

    def test_retype_changes_compression_and_qos_in_place(self):
        packed, plain = str(uuid.uuid4()), str(uuid.uuid4())
        self.specs[packed] = {'basalt:compression': '<is> True'}
        self.specs[plain] = {'basalt:compression': '<is> False'}
        self.qos[plain] = qos_specs('back-end', total_iops_sec_per_gb=100)
        volume = self.create(2, packed)
        self.assertTrue(self.basalt_volume(volume)['compression'])
        diff = {'extra_specs': {'basalt:compression': ('<is> True', '<is> False')},
                'qos_specs': {'total_iops_sec_per_gb': (None, '100')}, 'encryption': {}}

        self.assertEqual((True, None), self.driver.retype(None, volume, {'id': plain}, diff, {}))
        backend = self.basalt_volume(volume)
        self.assertFalse(backend['compression'])
        self.assertEqual(dict(UNLIMITED, totalIops=200), backend['qos'])

        back = {'extra_specs': {'basalt:compression': ('<is> False', '<is> True')}}
        self.assertEqual((True, None), self.driver.retype(None, volume, {'id': packed}, back, {}))
        self.assertTrue(self.basalt_volume(volume)['compression'])
        self.assertEqual(UNLIMITED, self.basalt_volume(volume)['qos'], 'no back-end QoS: no limits')

    def test_retype_of_replicas_or_encryption_asks_for_a_migration(self):
        volume = self.create()
        sent = self.api.get_volume(volume.provider_id, project=self.project)
        for diff in ({'extra_specs': {'basalt:replicas': ('1', '2')}},
                     {'encryption': {'provider': (None, 'luks')}}):
            self.assertEqual((False, None), self.driver.retype(None, volume, {'id': None}, diff, {}))
        self.assertEqual(sent, self.basalt_volume(volume), 'nothing changed on the node')

    # --- manage and unmanage ---

    def test_manage_by_id_and_by_name_then_unmanage(self):
        made = self.api.create_volume('made-by-hand', 2 * GiB, project=self.project)
        type_id = str(uuid.uuid4())
        self.specs[type_id] = {'basalt:compression': 'True'}
        volume = cs.new_volume(self.project, size=0, type_id=type_id)
        self.assertEqual(2, self.driver.manage_existing_get_size(volume, {'source-id': made['id']}))
        volume.size = 2
        cs.apply(volume, self.driver.manage_existing(volume, {'source-id': made['id']}))
        self.assertEqual(made['id'], volume.provider_id)
        backend = self.basalt_volume(volume)
        self.assertEqual(volume.name, backend['name'])
        self.assertTrue(backend['compression'], 'the type\'s compression')

        with self.assertRaises(self.exception.ManageExistingAlreadyManaged):
            self.driver.manage_existing(cs.new_volume(self.project, size=2), {'source-id': made['id']})

        self.driver.unmanage(volume)
        self.assertEqual('unmanaged-' + volume.id, self.basalt_volume(volume)['name'],
                         'kept on the node, under a name that is no Cinder volume\'s')
        self.driver.delete_volume(cs.new_volume(self.project, id=volume.id))
        self.assertEqual(made['id'], self.basalt_volume(volume)['id'], 'a later delete by name misses it')

        again = cs.new_volume(self.project, size=2)
        ref = {'source-name': 'unmanaged-' + volume.id}
        self.assertEqual(2, self.driver.manage_existing_get_size(again, ref))
        cs.apply(again, self.driver.manage_existing(again, ref))
        self.assertEqual(again.name, self.basalt_volume(again)['name'])
        self.driver.delete_volume(again)
        self.assertNothingLeft()

    def test_manage_refuses_what_it_cannot_take_over(self):
        volume = cs.new_volume(self.project, size=1)
        for ref in ({}, {'source-id': str(uuid.uuid4())}, {'source-name': 'nope'}, {'source-id': '..'}):
            with self.assertRaises(self.exception.ManageExistingInvalidReference, msg=ref):
                self.driver.manage_existing_get_size(volume, ref)
        odd = self.api.create_volume('odd-size', GiB + 512 * 1024 * 1024, project=self.project)
        with self.assertRaisesRegex(self.exception.ManageExistingInvalidReference, 'extend it to 2 GiB'):
            self.driver.manage_existing_get_size(volume, {'source-id': odd['id']})
        used = self.api.create_volume('in-use', GiB, hosts=[HOST_A], project=self.project)
        with self.assertRaisesRegex(self.exception.ManageExistingInvalidReference, HOST_A):
            self.driver.manage_existing(volume, {'source-name': 'in-use'})
        self.assertEqual('in-use', self.api.get_volume(used['id'], project=self.project)['name'])

    def test_manageable_volumes_of_the_default_project(self):
        mine = self.create()
        names = ['manageable-' + uuid.uuid4().hex[:8], 'attached-' + uuid.uuid4().hex[:8]]
        free = self.api.create_volume(names[0], GiB, project='default')
        attached = self.api.create_volume(names[1], GiB, hosts=[HOST_B], project='default')
        cinder_name = self.api.create_volume('volume-' + str(uuid.uuid4()), GiB, project='default')
        try:
            listed = self.driver.get_manageable_volumes([mine], None, 1000, 0, ['size'], ['asc'])
            # What Cinder's volume manager makes of the entries (a str extra_info failed here, and
            # the real-Cinder e2e with it: it must be a dict).
            from cinder import context
            from cinder import objects
            objects.ManageableVolumeList.from_primitives(context.get_admin_context(), listed)
            by_id = {e['reference']['source-id']: e for e in listed}
            self.assertTrue(by_id[free['id']]['safe_to_manage'])
            self.assertEqual(1, by_id[free['id']]['size'])
            self.assertIsNone(by_id[free['id']]['cinder_id'])
            self.assertFalse(by_id[attached['id']]['safe_to_manage'])
            self.assertIn(HOST_B, by_id[attached['id']]['reason_not_safe'])
            self.assertFalse(by_id[cinder_name['id']]['safe_to_manage'])
            self.assertNotIn(mine.provider_id, by_id, 'Cinder\'s own project is not listed')
        finally:
            for made in (free, attached, cinder_name):
                self.api.delete_volume(made['id'], project='default')

    # --- QoS ---

    def limits(self, volume):
        return self.api.get_volume(volume.provider_id, project=self.project)['qos']

    def test_stats_say_qos_is_supported(self):
        self.assertTrue(self.driver.get_volume_stats(refresh=True)['pools'][0]['QoS_support'])

    def test_a_types_back_end_qos_reaches_the_node_and_per_gb_follows_extend(self):
        gold = str(uuid.uuid4())
        self.qos[gold] = qos_specs('both', read_iops_sec=500, total_iops_sec_per_gb=100, burst_seconds=2)
        volume = self.create(1, gold)
        self.assertEqual(dict(UNLIMITED, readIops=500, totalIops=100, burstSeconds=2), self.limits(volume))

        self.driver.extend_volume(volume, 3)
        self.assertEqual(dict(UNLIMITED, readIops=500, totalIops=300, burstSeconds=2), self.limits(volume))

        clone = cs.new_volume(self.project, size=4, type_id=gold)
        cs.apply(clone, self.driver.create_cloned_volume(clone, volume))
        self.assertEqual(400, self.limits(clone)['totalIops'], 'a clone gets its own size\'s limits')

    def test_front_end_qos_and_no_qos_leave_the_volume_unlimited(self):
        nova = str(uuid.uuid4())
        self.qos[nova] = qos_specs('front-end', total_iops_sec=100)
        self.assertEqual(UNLIMITED, self.limits(self.create(1, nova)))
        self.assertEqual(UNLIMITED, self.limits(self.create(1, None)))

    def test_invalid_specs_create_nothing(self):
        bad = str(uuid.uuid4())
        self.qos[bad] = qos_specs('back-end', write_iops_sec='lots')
        with self.assertRaises(self.exception.InvalidQoSSpecs):
            self.create(1, bad)
        self.assertEqual([], self.api.list_volumes(project=self.project))

    def test_a_limit_the_node_refuses_is_a_backend_error_with_its_message(self):
        huge = str(uuid.uuid4())
        self.qos[huge] = qos_specs('back-end', total_iops_sec=2 ** 63)
        with self.assertRaises(self.exception.InvalidQoSSpecs):
            self.create(1, huge)
        self.qos[huge] = qos_specs('back-end', total_bytes_sec_per_gb=2 ** 62)
        volume = self.create(1, huge)
        self.assertEqual(2 ** 62, self.limits(volume)['totalBytesPerSec'])
        refusal = self.api_error(400, 'totalIops must be an integer from 0 (no limit) to 9223372036854775807',
                                 'totalIops')
        with mock.patch.object(self.driver.client, 'set_qos', side_effect=refusal):
            with self.assertRaises(self.exception.VolumeBackendAPIException) as failed:
                self.driver.extend_volume(volume, 2)
        self.assertIn('totalIops', str(failed.exception))


class DriverLiveTest(cs.LiveNode, DriverContract, unittest.TestCase):
    pass


class DriverFakeTest(cs.FakeNode, DriverContract, unittest.TestCase):
    pass


if __name__ == '__main__':
    unittest.main()
