package io.basalt.cluster.membership;

import io.basalt.cluster.ClusterException;
import io.basalt.cluster.etcd.ClusterKeys;
import io.basalt.cluster.etcd.EtcdCalls;
import io.basalt.cluster.volumes.VolumeRecords;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import io.etcd.jetcd.watch.WatchResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The cluster's members as this node knows them: read once, then kept current by a watch on the
 * cluster's prefix, so reading the list never waits for etcd. When the watch fails (etcd lost,
 * history compacted) the list is read again and a new watch starts where that read ended. The same
 * watch feeds the cluster's {@link VolumeRecords}, so members and volumes are seen at one revision.
 */
public final class MemberList implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MemberList.class);
    private static final Duration RESYNC_DELAY = Duration.ofSeconds(1);
    /** A cluster has tens of nodes; a prefix holding far more keys than this is not ours to list. */
    static final long MAX_KEYS = 10_000;

    private final Client client;
    private final ClusterKeys keys;
    private final ScheduledExecutorService executor;
    private final Duration callTimeout;
    private final Map<String, NodeDescription> descriptions = new HashMap<>();
    private final Map<String, LeasedStatus> statuses = new HashMap<>();
    private final VolumeRecords volumes = new VolumeRecords();
    private volatile List<Member> members = List.of();
    private Watch.Watcher watcher;
    private boolean closed;

    MemberList(Client client, ClusterKeys keys, ScheduledExecutorService executor, Duration callTimeout) {
        this.client = client;
        this.keys = keys;
        this.executor = executor;
        this.callTimeout = callTimeout;
    }

    /** Every node the cluster knows, live or down, by failure domain then node id. Never waits. */
    public List<Member> members() {
        return members;
    }

    public VolumeRecords volumes() {
        return volumes;
    }

    /** Reads the list and starts watching it. */
    void start() throws ClusterException {
        GetResponse listed = EtcdCalls.await(client.getKVClient().get(keys.prefix(),
                GetOption.builder().isPrefix(true).withLimit(MAX_KEYS).build()), callTimeout, "list the cluster's members");
        long revision = listed.getHeader().getRevision();
        if (listed.isMore()) {
            LOG.warn("the cluster's prefix holds more than {} keys: only the first are listed", MAX_KEYS);
        }
        synchronized (this) {
            if (closed) {
                return;
            }
            descriptions.clear();
            statuses.clear();
            volumes.clear();
            listed.getKvs().forEach(this::put);
            publish();
            if (watcher != null) {
                watcher.close();
            }
            watcher = client.getWatchClient().watch(keys.prefix(),
                    WatchOption.builder().isPrefix(true).withRevision(revision + 1).build(),
                    Watch.listener(this::apply, this::watchFailed));
        }
    }

    private synchronized void apply(WatchResponse response) {
        if (closed) {
            return;
        }
        for (WatchEvent event : response.getEvents()) {
            if (event.getEventType() == WatchEvent.EventType.PUT) {
                put(event.getKeyValue());
            } else if (event.getEventType() == WatchEvent.EventType.DELETE) {
                keys.parse(event.getKeyValue().getKey()).ifPresent(name -> {
                    switch (name.kind()) {
                        case ClusterKeys.NODES -> descriptions.remove(name.id());
                        case ClusterKeys.MEMBERS -> statuses.remove(name.id());
                        default -> volumes.remove(name.kind().equals(ClusterKeys.VOLUME_STATES), name.id());
                    }
                });
            }
        }
        publish();
    }

    /** A value that is not a record of ours is left out of the list, with a warning, and nothing else. */
    private void put(KeyValue kv) {
        keys.parse(kv.getKey()).ifPresent(name -> {
            try {
                if (name.kind().equals(ClusterKeys.VOLUMES) || name.kind().equals(ClusterKeys.VOLUME_STATES)) {
                    if (kv.getValue().size() > VolumeRecords.MAX_VALUE_BYTES) {
                        throw new IOException("a value of " + kv.getValue().size() + " bytes is larger than "
                                + VolumeRecords.MAX_VALUE_BYTES);
                    }
                    volumes.put(name.kind().equals(ClusterKeys.VOLUME_STATES), name.id(), kv.getValue().getBytes(),
                            kv.getModRevision());
                } else if (name.kind().equals(ClusterKeys.NODES)) {
                    NodeDescription description = MemberRecords.decode(kv.getValue(), NodeDescription.class);
                    if (description.nodeId().equals(name.id())) {
                        descriptions.put(name.id(), description);
                    } else {
                        LOG.warn("etcd key {} describes node {}: left out", kv.getKey(), description.nodeId());
                    }
                } else {
                    statuses.put(name.id(), new LeasedStatus(MemberRecords.decode(kv.getValue(), MemberStatus.class),
                            kv.getLease()));
                }
            } catch (IOException e) {
                LOG.warn("etcd key {} does not hold a record Basalt can read: {}", kv.getKey(), e.getMessage());
            }
        });
    }

    private void publish() {
        List<Member> list = new ArrayList<>(descriptions.size());
        descriptions.forEach((id, description) -> {
            LeasedStatus live = statuses.get(id);
            list.add(live == null ? new Member(description, Optional.empty(), 0)
                    : new Member(description, Optional.of(live.status()), live.leaseId()));
        });
        list.sort(Comparator.comparing(Member::failureDomain).thenComparing(Member::nodeId));
        members = List.copyOf(list);
        volumes.publish();
    }

    private void watchFailed(Throwable failure) {
        LOG.warn("the watch on the cluster's members failed ({}); reading them again", failure.toString());
        scheduleResync();
    }

    private void scheduleResync() {
        synchronized (this) {
            if (closed) {
                return;
            }
        }
        executor.schedule(() -> {
            try {
                start();
                LOG.info("the cluster's member list is current again");
            } catch (ClusterException e) {
                LOG.warn("cannot read the cluster's members yet: {}", e.getMessage());
                scheduleResync();
            }
        }, RESYNC_DELAY.toMillis(), TimeUnit.MILLISECONDS);
    }

    private record LeasedStatus(MemberStatus status, long leaseId) {
    }

    @Override
    public synchronized void close() {
        closed = true;
        if (watcher != null) {
            watcher.close();
        }
    }
}
