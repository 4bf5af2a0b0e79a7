package io.basalt.cluster.placement;

import io.basalt.cluster.membership.Member;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Chooses the nodes of a volume's replicas: each in its own failure domain, each with room for the
 * volume, the emptiest first. A pure function of the member list it is given.
 */
public final class Placement {
    public static final int MIN_REPLICAS = 1;
    public static final int MAX_REPLICAS = 3;

    /** Most free bytes first; the node id breaks ties so that one member list always gives one answer. */
    private static final Comparator<Member> EMPTIEST_FIRST = Comparator.comparingLong(Member::freeBytes).reversed()
            .thenComparing(Member::nodeId);

    private Placement() {
    }

    /**
     * The nodes for {@code replicas} copies of a volume of {@code bytes}: the emptiest live node of each
     * failure domain, then the emptiest of those domains. The first node is the one with most free space.
     *
     * @throws PlacementException when fewer than {@code replicas} failure domains have a live node with
     *                            {@code bytes} free; the message counts what the cluster has
     */
    public static List<Member> choose(Collection<Member> members, int replicas, long bytes) throws PlacementException {
        if (replicas < MIN_REPLICAS || replicas > MAX_REPLICAS) {
            throw new IllegalArgumentException("replicas must be from " + MIN_REPLICAS + " to " + MAX_REPLICAS
                    + ", not " + replicas);
        }
        if (bytes < 0) {
            throw new IllegalArgumentException("a volume's size cannot be negative: " + bytes);
        }
        Map<String, Member> emptiestPerDomain = new HashMap<>();
        TreeSet<String> liveDomains = new TreeSet<>();
        int live = 0;
        for (Member member : members) {
            if (!member.live()) {
                continue;
            }
            live++;
            liveDomains.add(member.failureDomain());
            if (member.freeBytes() >= bytes) {
                emptiestPerDomain.merge(member.failureDomain(), member,
                        (a, b) -> EMPTIEST_FIRST.compare(a, b) <= 0 ? a : b);
            }
        }
        if (emptiestPerDomain.size() < replicas) {
            throw new PlacementException(replicas + (replicas == 1 ? " replica needs a live node" : " replicas need live nodes in "
                    + replicas + " distinct failure domains") + " with " + bytes + " bytes free; the cluster has "
                    + live + " live node" + (live == 1 ? "" : "s") + " in " + liveDomains.size() + " failure domain"
                    + (liveDomains.size() == 1 ? "" : "s") + (liveDomains.isEmpty() ? "" : " " + liveDomains)
                    + ", of which " + emptiestPerDomain.size() + (emptiestPerDomain.size() == 1 ? " has" : " have")
                    + " a node with that much free" + (emptiestPerDomain.isEmpty() ? "" : " " + new TreeSet<>(emptiestPerDomain.keySet())));
        }
        List<Member> chosen = new ArrayList<>(emptiestPerDomain.values());
        chosen.sort(EMPTIEST_FIRST);
        return List.copyOf(chosen.subList(0, replicas));
    }
}
