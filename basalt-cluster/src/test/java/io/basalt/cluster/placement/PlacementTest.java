package io.basalt.cluster.placement;

import io.basalt.cluster.membership.Capacity;
import io.basalt.cluster.membership.Member;
import io.basalt.cluster.membership.MemberStatus;
import io.basalt.cluster.membership.NodeDescription;
import io.basalt.cluster.membership.PortalAddress;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PlacementTest {
    private static final long GIB = 1L << 30;

    @Test
    void choosesTheEmptiestNodeOfEachDomainThenTheEmptiestDomains() throws PlacementException {
        Member a1 = live("rack-a", 100 * GIB, 1);
        Member a2 = live("rack-a", 100 * GIB, 50 * GIB);
        Member b1 = live("rack-b", 100 * GIB, 40 * GIB);
        Member c1 = live("rack-c", 100 * GIB, 10 * GIB);

        assertEquals(List.of(a2, b1), Placement.choose(List.of(a1, a2, b1, c1), 2, GIB));
        assertEquals(List.of(a2, b1, c1), Placement.choose(List.of(c1, b1, a1, a2), 3, GIB));
        assertEquals(List.of(a2), Placement.choose(List.of(a1, a2, b1, c1), 1, GIB));
    }

    @Test
    void neverPutsTwoReplicasInOneFailureDomain() throws PlacementException {
        Random random = new Random(11);
        for (int round = 0; round < 200; round++) {
            List<Member> members = new ArrayList<>();
            for (int i = 0; i < 12; i++) {
                members.add(live("domain-" + random.nextInt(4), 100 * GIB, random.nextLong(100 * GIB)));
            }
            long distinct = members.stream().map(Member::failureDomain).distinct().count();
            int replicas = (int) Math.min(3, distinct);
            List<Member> chosen = Placement.choose(members, replicas, 0);
            assertEquals(replicas, chosen.stream().map(Member::failureDomain).distinct().count(), "round " + round);
        }
    }

    @Test
    void leavesOutNodesThatAreDownOrTooFull() throws PlacementException {
        Member down = new Member(new NodeDescription(UUID.randomUUID().toString(), "rack-a", "http://127.0.0.1:8470",
                List.of()), Optional.empty(), 0);
        Member full = live("rack-b", 100 * GIB, 2 * GIB);
        Member roomy = live("rack-c", 100 * GIB, 20 * GIB);

        assertEquals(List.of(roomy), Placement.choose(List.of(down, full, roomy), 1, 10 * GIB));
        PlacementException refused = assertThrows(PlacementException.class,
                () -> Placement.choose(List.of(down, full, roomy), 2, 10 * GIB));
        assertEquals("2 replicas need live nodes in 2 distinct failure domains with 10737418240 bytes free; the cluster"
                + " has 2 live nodes in 2 failure domains [rack-b, rack-c], of which 1 has a node with that much free"
                + " [rack-c]", refused.getMessage());
    }

    @Test
    void refusesWhenFailureDomainsAreTooFewAndSaysHowMany() {
        List<Member> twoDomains = List.of(live("rack-a", 100 * GIB, 90 * GIB), live("rack-a", 100 * GIB, 90 * GIB),
                live("rack-b", 100 * GIB, 90 * GIB));
        PlacementException refused = assertThrows(PlacementException.class, () -> Placement.choose(twoDomains, 3, GIB));
        assertEquals("3 replicas need live nodes in 3 distinct failure domains with 1073741824 bytes free; the cluster"
                + " has 3 live nodes in 2 failure domains [rack-a, rack-b], of which 2 have a node with that much free"
                + " [rack-a, rack-b]", refused.getMessage());
        PlacementException empty = assertThrows(PlacementException.class, () -> Placement.choose(List.of(), 1, GIB));
        assertEquals("1 replica needs a live node with 1073741824 bytes free; the cluster has 0 live nodes in 0"
                + " failure domains, of which 0 have a node with that much free", empty.getMessage());
    }

    @Test
    void refusesReplicaCountsOutsideOneToThree() {
        List<Member> members = List.of(live("a", GIB, GIB), live("b", GIB, GIB), live("c", GIB, GIB), live("d", GIB, GIB));
        assertThrows(IllegalArgumentException.class, () -> Placement.choose(members, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> Placement.choose(members, 4, 1));
        assertThrows(IllegalArgumentException.class, () -> Placement.choose(members, 1, -1));
    }

    @Test
    void theOrderOfTheMemberListDoesNotChangeTheAnswer() throws PlacementException {
        List<Member> members = new ArrayList<>();
        for (int i = 0; i < 9; i++) {
            members.add(live("rack-" + (i % 3), 100 * GIB, 30 * GIB)); // equal free space: ties everywhere
        }
        List<Member> first = Placement.choose(members, 3, GIB);
        Random random = new Random(5);
        for (int round = 0; round < 20; round++) {
            Collections.shuffle(members, random);
            assertEquals(first, Placement.choose(members, 3, GIB));
        }
        assertTrue(first.getFirst().nodeId().compareTo(first.get(1).nodeId()) < 0);
    }

    static Member live(String failureDomain, long total, long free) {
        String id = UUID.randomUUID().toString();
        return new Member(new NodeDescription(id, failureDomain, "http://127.0.0.1:8470",
                List.of(new PortalAddress("tcp", "127.0.0.1", 4420))),
                Optional.of(new MemberStatus(new Capacity(total, free), 0)), 1);
    }
}
