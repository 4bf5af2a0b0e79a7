package io.basalt.service.cluster;

import io.basalt.bridge.Names;
import io.basalt.bridge.VolumeService;
import io.basalt.bridge.api.Qos;
import io.basalt.cluster.volumes.VolumeRecords;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A replicated volume's record in etcd holds its hosts and its snapshots. With the most of both the API
 * allows, and every name at its longest, the record still fits what every node reads from etcd: a
 * record past that would be skipped by every node, so the caps, not etcd, must refuse first. (With 384
 * snapshots allowed the record was 96,183 bytes.)
 */
class VolumeRecordSizeTest {
    private static final int LONGEST_NQN = 223;

    @Test
    void aRecordWithTheMostHostsAndSnapshotsFitsWhatEveryNodeReads() {
        List<String> hosts = new ArrayList<>();
        for (int i = 0; i < VolumeService.MAX_HOSTS; i++) {
            String prefix = "nqn.2014-08.org.example:host-" + i + "-";
            hosts.add(prefix + "x".repeat(LONGEST_NQN - prefix.length()));
        }
        List<SnapshotEntry> snapshots = new ArrayList<>();
        for (int i = 0; i < ClusterVolumes.MAX_SNAPSHOTS; i++) {
            snapshots.add(new SnapshotEntry(UUID.randomUUID().toString(), longest("snap-" + i), Long.MAX_VALUE,
                    Long.MAX_VALUE, SnapshotEntry.State.TAKING));
        }
        List<String> nodes = List.of(UUID.randomUUID().toString(), UUID.randomUUID().toString(),
                UUID.randomUUID().toString());
        VolumeDesire desire = new VolumeDesire(UUID.randomUUID().toString(), longest("project"), longest("volume"),
                Long.MAX_VALUE, Boolean.TRUE, 3, nodes, hosts, true,
                new Qos(Long.MAX_VALUE, Long.MAX_VALUE, Long.MAX_VALUE, Long.MAX_VALUE, Long.MAX_VALUE,
                        Long.MAX_VALUE, Integer.MAX_VALUE),
                UUID.randomUUID(), "00112233445566778899aabbccddeeff", Long.MAX_VALUE, nodes.get(1), nodes,
                snapshots, UUID.randomUUID().toString(), UUID.randomUUID().toString(),
                new RevertEntry(UUID.randomUUID().toString(), Long.MAX_VALUE, "e".repeat(1024)));
        int bytes = ClusterJson.encode(desire).length;
        assertTrue(bytes <= VolumeRecords.MAX_VALUE_BYTES, bytes + " bytes");
    }

    private static String longest(String prefix) {
        return prefix + "-" + "n".repeat(Names.MAX_LENGTH - prefix.length() - 1);
    }
}
