package io.basalt.nvmetcp.nvmet;

import java.util.Objects;
import java.util.Set;
import java.util.UUID;

/**
 * A namespace of a subsystem: a block device, its identifiers and the host NQNs allowed to see it.
 * The ACL is replaced as a whole (copy on write), so I/O paths read it without locking.
 */
public final class Namespace {
    /** The ANA group of a namespace created without one. */
    public static final int DEFAULT_ANA_GROUP = 1;
    /**
     * Highest ANA group ID (ANAGRPMAX and NANAGRPID): as many groups as namespaces, so that every
     * namespace can have a group of its own and change state alone (each volume has its own primary).
     */
    public static final int MAX_ANA_GROUP = Subsystem.MAX_NAMESPACES;

    private final int nsid;
    private final UUID uuid;
    private final byte[] nguid;
    private final BlockDevice device;
    private final int anaGroup;
    private volatile Set<String> allowedHosts;
    private volatile IoObserver observer = IoObserver.NONE;

    public Namespace(int nsid, UUID uuid, byte[] nguid, BlockDevice device, Set<String> allowedHosts) {
        this(nsid, uuid, nguid, device, allowedHosts, DEFAULT_ANA_GROUP);
    }

    /**
     * @param anaGroup the ANA group (1 to {@link #MAX_ANA_GROUP}) whose state, per port, decides
     *                 whether the namespace takes I/O through that port; fixed for its lifetime
     *                 (ANACAP bit 6)
     */
    public Namespace(int nsid, UUID uuid, byte[] nguid, BlockDevice device, Set<String> allowedHosts, int anaGroup) {
        if (anaGroup < 1 || anaGroup > MAX_ANA_GROUP) {
            throw new IllegalArgumentException("ANA group " + anaGroup + " outside 1.." + MAX_ANA_GROUP);
        }
        if (nsid <= 0 || nsid == 0xFFFFFFFF) {
            throw new IllegalArgumentException("invalid NSID " + nsid);
        }
        if (nguid.length != 16) {
            throw new IllegalArgumentException("NGUID must be 16 bytes");
        }
        this.nsid = nsid;
        this.uuid = Objects.requireNonNull(uuid);
        this.nguid = nguid.clone();
        this.device = Objects.requireNonNull(device);
        this.allowedHosts = Set.copyOf(allowedHosts);
        this.anaGroup = anaGroup;
    }

    public int nsid() {
        return nsid;
    }

    public UUID uuid() {
        return uuid;
    }

    public byte[] nguid() {
        return nguid.clone();
    }

    public BlockDevice device() {
        return device;
    }

    public int anaGroup() {
        return anaGroup;
    }

    public Set<String> allowedHosts() {
        return allowedHosts;
    }

    public boolean isVisibleTo(String hostNqn) {
        return allowedHosts.contains(hostNqn);
    }

    /** Package-private: changed through {@link Subsystem#setAllowedHosts} so connected hosts are told. */
    void allowedHosts(Set<String> hosts) {
        this.allowedHosts = Set.copyOf(hosts);
    }

    public IoObserver observer() {
        return observer;
    }

    public void observer(IoObserver observer) {
        this.observer = Objects.requireNonNull(observer);
    }
}
