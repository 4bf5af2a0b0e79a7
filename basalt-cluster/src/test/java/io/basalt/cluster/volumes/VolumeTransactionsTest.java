package io.basalt.cluster.volumes;

import io.basalt.cluster.ClusterException;
import io.basalt.cluster.etcd.ClusterKeys;
import io.basalt.cluster.etcd.EtcdProcess;
import io.etcd.jetcd.Client;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The volume transactions on a real etcd: one name is one volume, a change written against a record
 * that changed since it was read loses (as a second API call on another node would), a rename moves
 * the name's claim, and a deletion frees the name.
 */
class VolumeTransactionsTest {
    @Test
    void namesAreClaimedAndChangesLoseAgainstNewerOnes() throws Exception {
        try (EtcdProcess etcd = EtcdProcess.start();
             Client client = Client.builder().endpoints(etcd.endpoints().toArray(URI[]::new)).build()) {
            VolumeTransactions volumes = new VolumeTransactions(client, new ClusterKeys("test"), Duration.ofSeconds(5));
            assertTrue(volumes.create("v1", "p", "data", bytes("first")));
            assertFalse(volumes.create("v2", "p", "data", bytes("second")), "the name is taken");
            assertTrue(volumes.create("v2", "other", "data", bytes("second")), "names are per project");

            long read = volumes.read("v1").orElseThrow().modRevision();
            assertTrue(volumes.update("v1", read, bytes("changed"), "p", "data", "data"));
            assertFalse(volumes.update("v1", read, bytes("late"), "p", "data", "data"),
                    "written against the record before the last change");
            assertArrayEquals(bytes("changed"), volumes.read("v1").orElseThrow().json());

            long current = volumes.read("v1").orElseThrow().modRevision();
            assertTrue(volumes.create("v3", "p", "taken", bytes("third")));
            assertFalse(volumes.update("v1", current, bytes("renamed"), "p", "data", "taken"), "the new name is taken");
            assertTrue(volumes.update("v1", current, bytes("renamed"), "p", "data", "logs"));
            assertTrue(volumes.create("v4", "p", "data", bytes("fourth")), "the rename freed the old name");

            assertFalse(volumes.delete("v1", current, "p", "logs"), "deleting what changed since it was read");
            assertTrue(volumes.delete("v1", volumes.read("v1").orElseThrow().modRevision(), "p", "logs"));
            assertTrue(volumes.read("v1").isEmpty());
            assertTrue(volumes.create("v5", "p", "logs", bytes("fifth")), "the deletion freed the name");

            // A record no node would read is not written: it would be taken for a volume without one.
            byte[] tooLarge = new byte[VolumeRecords.MAX_VALUE_BYTES + 1];
            long fifth = volumes.read("v5").orElseThrow().modRevision();
            ClusterException refused = assertThrows(ClusterException.class,
                    () -> volumes.update("v5", fifth, tooLarge, "p", "logs", "logs"));
            assertTrue(refused.getMessage().contains("more than the 65536 a node reads"), refused.getMessage());
            assertArrayEquals(bytes("fifth"), volumes.read("v5").orElseThrow().json());
            assertThrows(ClusterException.class, () -> volumes.create("v6", "p", "large", tooLarge));
            assertTrue(volumes.read("v6").isEmpty());
        }
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
