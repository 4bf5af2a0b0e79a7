"""The driver with a node in a cluster, against tests/fake_basalt.py: the pool reports the
cluster's capacity, and connection info lists every portal of a volume (os-brick's nvmeof
connector connects each, and the host's native multipath joins them)."""

import unittest
import uuid

from tests import cinder_support as cs
from tests.fake_basalt import FakeBasalt

GiB = 1024 ** 3
HOST = 'nqn.2014-08.org.nvmexpress:uuid:' + str(uuid.uuid4())


class ClusterDriverTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cs.require_cinder()

    def setUp(self):
        self.fake = FakeBasalt(token='adm', total_bytes=10 * GiB)
        self.fake.__enter__()
        self.addCleanup(self.fake.__exit__, None, None, None)
        self.driver = cs.new_driver(self.fake.url, 'adm')

    def test_stats_report_the_node_alone_without_a_cluster(self):
        pool = self.driver.get_volume_stats(refresh=True)['pools'][0]
        self.assertEqual(10.0, pool['total_capacity_gb'])
        self.assertEqual('up', pool['backend_state'])

    def test_stats_report_the_clusters_capacity_in_a_cluster(self):
        # the node's own stats say 10 GiB; the cluster has three nodes
        self.fake.cluster = {'name': 'prod', 'nodeId': str(uuid.uuid4()), 'failureDomain': 'rack-a',
                             'nodes': 3, 'liveNodes': 3, 'liveFailureDomains': 3,
                             'totalBytes': 300 * GiB, 'freeBytes': 120 * GiB,
                             'volumes': 7, 'provisionedBytes': 50 * GiB}
        pool = self.driver.get_volume_stats(refresh=True)['pools'][0]
        self.assertEqual(300.0, pool['total_capacity_gb'])
        self.assertEqual(120.0, pool['free_capacity_gb'])
        self.assertEqual(50.0, pool['provisioned_capacity_gb'])
        self.assertEqual(7, pool['total_volumes'])
        self.assertEqual(20.0, pool['max_over_subscription_ratio'], 'the node\'s ratio')
        self.assertEqual('up', pool['backend_state'])

    def test_stats_while_the_node_joins_its_cluster(self):
        # /stats answers, /cluster does not yet: no capacity to report, so none is offered
        self.fake.cluster = (503, {'error': 'this node is joining cluster prod'})
        pool = self.driver.get_volume_stats(refresh=True)['pools'][0]
        self.assertEqual(0, pool['free_capacity_gb'])
        self.assertEqual('down', pool['backend_state'])

    def test_connection_info_lists_every_portal(self):
        self.fake.portals = [{'transport': 'tcp', 'address': '192.0.2.11', 'port': 4420},
                             {'transport': 'tcp', 'address': '192.0.2.12', 'port': 4420},
                             {'transport': 'tcp', 'address': '192.0.2.13', 'port': 4421}]
        from os_brick.initiator.connectors import nvmeof
        volume = cs.new_volume(uuid.uuid4().hex)
        cs.apply(volume, self.driver.create_volume(volume))
        data = self.driver.initialize_connection(volume, {'nqn': HOST, 'host': 'compute-1'})['data']
        self.assertEqual([['192.0.2.11', '4420', 'tcp'], ['192.0.2.12', '4420', 'tcp'],
                          ['192.0.2.13', '4421', 'tcp']], data['portals'])
        target = nvmeof.NVMeOFConnProps(dict(data)).targets[0]
        self.assertEqual([('192.0.2.11', '4420'), ('192.0.2.12', '4420'), ('192.0.2.13', '4421')],
                         [(p.address, p.port) for p in target.portals])


if __name__ == '__main__':
    unittest.main()
