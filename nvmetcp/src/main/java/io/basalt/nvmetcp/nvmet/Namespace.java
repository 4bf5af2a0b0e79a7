package io.basalt.nvmetcp.nvmet;

import java.util.Objects;
import java.util.Set;
import java.util.UUID;

/**
 * A namespace of a subsystem: a block device, its identifiers and the host NQNs allowed to see it.
 * The ACL is replaced as a whole (copy on write), so I/O paths read it without locking.
 */
public final class Namespace {
    /** The ANA group of every namespace until replication assigns groups per volume. */
    public static final int DEFAULT_ANA_GROUP = 1;

    private final int nsid;
    private final UUID uuid;
    private final byte[] nguid;
    private final BlockDevice device;
    private volatile Set<String> allowedHosts;
    private volatile IoObserver observer = IoObserver.NONE;

    public Namespace(int nsid, UUID uuid, byte[] nguid, BlockDevice device, Set<String> allowedHosts) {
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
        return DEFAULT_ANA_GROUP;
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
