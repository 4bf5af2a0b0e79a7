package io.basalt.cluster.volumes;

import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.BooleanSupplier;

/**
 * The cluster's volume records as this node knows them: the values under {@code volumes/} (desired
 * state) and {@code volume-states/} (what the holding node made of it), kept current by the member
 * list's watch on the cluster's prefix, so members and volumes are seen at the same revision. Reading
 * never waits for etcd. The values stay JSON bytes: what they mean is the storage service's business.
 */
public final class VolumeRecords {
    /** A volume record with its ACL of hosts is a few KiB; anything far larger is not one of ours. */
    public static final int MAX_VALUE_BYTES = 64 * 1024;

    private final Map<String, Stored> desired = new HashMap<>();
    private final Map<String, Stored> states = new HashMap<>();
    private final Set<String> changed = new HashSet<>();
    private volatile Map<String, Stored> desiredView = Map.of();
    private volatile Map<String, Stored> statesView = Map.of();
    private volatile Consumer<Set<String>> listener = ids -> { };

    /** A value and the etcd revision that last changed it (what a transaction compares). */
    public record Stored(byte[] json, long modRevision) {
    }

    /** Desired state by volume id. */
    public Map<String, Stored> desired() {
        return desiredView;
    }

    /** Reported state by volume id. */
    public Map<String, Stored> states() {
        return statesView;
    }

    /**
     * Called, on etcd's watch thread, with the ids of the volumes whose records changed (every id after a
     * fresh read); it must hand the work over and return at once.
     */
    public void onChange(Consumer<Set<String>> listener) {
        this.listener = listener;
    }

    /**
     * Waits until {@code condition} holds for what this node knows of the volume records, re-checked at
     * every change the watch delivers, at most {@code timeout}; returns whether it did.
     */
    public synchronized boolean await(BooleanSupplier condition, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            wait(Math.max(1, left / 1_000_000));
        }
        return true;
    }

    public synchronized void clear() {
        changed.addAll(desired.keySet());
        changed.addAll(states.keySet());
        desired.clear();
        states.clear();
    }

    public synchronized void put(boolean state, String volumeId, byte[] json, long modRevision) {
        (state ? states : desired).put(volumeId, new Stored(json, modRevision));
        changed.add(volumeId);
    }

    public synchronized void remove(boolean state, String volumeId) {
        (state ? states : desired).remove(volumeId);
        changed.add(volumeId);
    }

    /** For the member list, which feeds these records. Shows the changes applied since the last call, wakes the waiters and tells the listener. */
    public void publish() {
        Set<String> ids;
        synchronized (this) {
            desiredView = Map.copyOf(desired);
            statesView = Map.copyOf(states);
            ids = Set.copyOf(changed);
            changed.clear();
            notifyAll();
        }
        if (!ids.isEmpty()) {
            listener.accept(ids);
        }
    }
}
