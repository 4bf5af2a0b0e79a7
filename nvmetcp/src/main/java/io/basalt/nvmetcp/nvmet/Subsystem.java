package io.basalt.nvmetcp.nvmet;

import io.basalt.nvmetcp.auth.DhchapCredentials;
import io.basalt.nvmetcp.nvme.Nqn;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * An NVM subsystem: an NQN and its namespaces. Controllers created by hosts that connect to it
 * register here so that namespace changes reach them as Namespace Attribute Changed events.
 */
public final class Subsystem {
    /** Highest NSID (Identify Controller NN and MNAN); bounds the ANA log a host allocates. */
    public static final int MAX_NAMESPACES = 1024;

    private final String nqn;
    private final String serial;
    private final String model;
    private final ConcurrentHashMap<Integer, Namespace> namespaces = new ConcurrentHashMap<>();
    private final List<NamespaceChangeListener> listeners = new CopyOnWriteArrayList<>();
    /** When each connected controller registered, counted in registrations: see {@link #controllerEpoch()}. */
    private final ConcurrentHashMap<NamespaceChangeListener, Long> registeredAt = new ConcurrentHashMap<>();
    private final AtomicLong registrations = new AtomicLong();
    private final CntlidRange cntlids;
    /** The controller ID tried next for a new controller. */
    private final AtomicInteger nextCntlid;
    /** Set when every host must authenticate here with credentials of this subsystem's own. */
    private volatile Function<String, DhchapCredentials> ownCredentials;

    /** A connected controller, told which namespaces changed for its host. */
    public interface NamespaceChangeListener {
        String hostNqn();

        void namespacesChanged(Collection<Integer> nsids);
    }

    public Subsystem(String nqn, String serial, String model) {
        this(nqn, serial, model, CntlidRange.ALL);
    }

    /** @param cntlids the controller IDs this target gives the subsystem's controllers */
    public Subsystem(String nqn, String serial, String model, CntlidRange cntlids) {
        this.nqn = Nqn.requireValid(nqn);
        this.serial = Objects.requireNonNull(serial);
        this.model = Objects.requireNonNull(model);
        this.cntlids = Objects.requireNonNull(cntlids);
        this.nextCntlid = new AtomicInteger(cntlids.first());
    }

    public String nqn() {
        return nqn;
    }

    public String serial() {
        return serial;
    }

    public String model() {
        return model;
    }

    public CntlidRange cntlids() {
        return cntlids;
    }

    /**
     * From the next Connect on, every host must authenticate (DH-HMAC-CHAP) to this subsystem with the
     * credentials {@code credentials} gives for its NQN, which must give some for every NQN; the target's
     * own credentials (and whether it holds any for the host) do not count here. For a subsystem whose
     * hosts prove they hold a secret shared among them, such as a cluster's nodes.
     */
    public void authenticateEveryHost(Function<String, DhchapCredentials> credentials) {
        this.ownCredentials = Objects.requireNonNull(credentials);
    }

    /** The credentials {@code hostNqn} must authenticate with here, if the subsystem has its own; else null. */
    DhchapCredentials ownCredentials(String hostNqn) {
        Function<String, DhchapCredentials> own = ownCredentials;
        return own == null ? null : Objects.requireNonNull(own.apply(hostNqn), "credentials of " + hostNqn);
    }

    AtomicInteger nextCntlid() {
        return nextCntlid;
    }

    public Namespace namespace(int nsid) {
        return namespaces.get(nsid);
    }

    /** The namespace if {@code hostNqn} may see it, else null. */
    public Namespace visibleNamespace(int nsid, String hostNqn) {
        Namespace ns = namespaces.get(nsid);
        return ns != null && ns.isVisibleTo(hostNqn) ? ns : null;
    }

    /** NSIDs visible to a host, ascending. */
    public int[] visibleNsids(String hostNqn) {
        return visibleNamespaces(hostNqn).stream().mapToInt(Namespace::nsid).toArray();
    }

    /** Namespaces visible to a host, by ascending NSID. */
    public List<Namespace> visibleNamespaces(String hostNqn) {
        return namespaces.values().stream()
                .filter(ns -> ns.isVisibleTo(hostNqn))
                .sorted(Comparator.comparingInt(Namespace::nsid))
                .toList();
    }

    /** Whether {@code hostNqn} sees a namespace of ANA group {@code anaGroup}. */
    boolean seesAnaGroup(String hostNqn, int anaGroup) {
        return namespaces.values().stream().anyMatch(ns -> ns.anaGroup() == anaGroup && ns.isVisibleTo(hostNqn));
    }

    public Collection<Namespace> namespaces() {
        return List.copyOf(namespaces.values());
    }

    /** Whether a host may connect: it must be allowed at least one namespace. */
    public boolean admits(String hostNqn) {
        return namespaces.values().stream().anyMatch(ns -> ns.isVisibleTo(hostNqn));
    }

    public void addNamespace(Namespace ns) {
        if (ns.nsid() > MAX_NAMESPACES) {
            throw new IllegalArgumentException("NSID " + ns.nsid() + " above the limit " + MAX_NAMESPACES);
        }
        if (namespaces.putIfAbsent(ns.nsid(), ns) != null) {
            throw new IllegalStateException("NSID " + ns.nsid() + " already exists in " + nqn);
        }
        notifyHosts(ns.nsid(), ns.allowedHosts());
    }

    public Namespace removeNamespace(int nsid) {
        Namespace ns = namespaces.remove(nsid);
        if (ns != null) {
            notifyHosts(nsid, ns.allowedHosts());
        }
        return ns;
    }

    /** Replaces the ACL of a namespace; hosts that gain or lose it are told. */
    public void setAllowedHosts(int nsid, Set<String> hosts) {
        Namespace ns = namespaces.get(nsid);
        if (ns == null) {
            throw new IllegalArgumentException("no namespace " + nsid + " in " + nqn);
        }
        Set<String> before = ns.allowedHosts();
        ns.allowedHosts(hosts);
        Set<String> changed = new HashSet<>(before);
        changed.addAll(hosts);
        changed.removeIf(h -> before.contains(h) && hosts.contains(h));
        notifyHosts(nsid, changed);
    }

    /** Tells every host that can see the namespace that its attributes (such as its size) changed. */
    public void namespaceResized(int nsid) {
        Namespace ns = namespaces.get(nsid);
        if (ns != null) {
            notifyHosts(nsid, ns.allowedHosts());
        }
    }

    public void register(NamespaceChangeListener listener) {
        registeredAt.put(listener, registrations.incrementAndGet());
        listeners.add(listener);
    }

    public void unregister(NamespaceChangeListener listener) {
        listeners.remove(listener);
        registeredAt.remove(listener);
    }

    /**
     * How many controllers have registered so far. A controller registered after this value was read
     * has a greater epoch, so it connected after whatever happened at that moment (such as a
     * namespace's removal) and cannot hold stale knowledge of it.
     */
    public long controllerEpoch() {
        return registrations.get();
    }

    /** Epoch of the oldest controller still registered; {@code Long.MAX_VALUE} if none is. */
    public long oldestControllerEpoch() {
        long oldest = Long.MAX_VALUE;
        for (long epoch : registeredAt.values()) {
            oldest = Math.min(oldest, epoch);
        }
        return oldest;
    }

    private void notifyHosts(int nsid, Set<String> hosts) {
        List<Integer> changed = new ArrayList<>(1);
        changed.add(nsid);
        for (NamespaceChangeListener l : listeners) {
            if (hosts.contains(l.hostNqn())) {
                l.namespacesChanged(changed);
            }
        }
    }
}
