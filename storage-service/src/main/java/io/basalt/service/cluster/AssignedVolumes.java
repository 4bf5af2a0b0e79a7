package io.basalt.service.cluster;

import io.basalt.bridge.ChangeNotMadeException;
import io.basalt.bridge.InsufficientCapacityException;
import io.basalt.bridge.InvalidVolumeRequestException;
import io.basalt.bridge.NotFoundException;
import io.basalt.bridge.VolumeConflictException;
import io.basalt.bridge.api.CreateSnapshotRequest;
import io.basalt.bridge.api.CreateVolumeRequest;
import io.basalt.bridge.api.Snapshot;
import io.basalt.bridge.api.UpdateVolumeRequest;
import io.basalt.bridge.api.Volume;
import io.basalt.cluster.Cluster;
import io.basalt.cluster.ClusterException;
import io.basalt.cluster.volumes.VolumeRecords;
import io.basalt.service.replication.ReplicaSubsystem;
import io.basalt.service.volume.VolumeManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * Carries out, on this node, the desired state of the volumes the cluster placed here, whether this node
 * holds their only copy, the primary's or a secondary's: creates, changes and deletes them in the node's
 * {@link VolumeManager} (engine and target), serves replicated copies as their role says
 * ({@link VolumeCopies}), then reports each generation applied (or why not) under {@code volume-states/}.
 * Works on one thread of its own, in the order etcd's watch reported the changes; the watch thread only
 * hands the ids over.
 */
final class AssignedVolumes implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(AssignedVolumes.class);

    private final Cluster cluster;
    private final VolumeManager local;
    private final VolumeCopies copies;
    private final String self;
    private final ExecutorService worker = Executors.newSingleThreadExecutor(Thread.ofPlatform()
            .name("basalt-assigned-volumes").daemon().factory());

    AssignedVolumes(Cluster cluster, VolumeManager local, VolumeCopies copies) {
        this.cluster = cluster;
        this.local = local;
        this.copies = copies;
        this.self = cluster.self().nodeId();
    }

    /** Applies every volume record as it is now, then each change as the watch reports it. */
    void start() {
        cluster.volumes().onChange(this::submit);
        reapply();
    }

    /**
     * Looks at every volume record again, as it is now: a volume already applied and served costs a read of
     * its record and report, and a primary brings back the secondaries it can reach again.
     */
    void reapply() {
        Set<String> all = new HashSet<>(cluster.volumes().desired().keySet());
        all.addAll(cluster.volumes().states().keySet());
        submit(all);
    }

    /** @param ids volume ids, or ids of copies' reports (a secondary's report is about its volume) */
    private void submit(Set<String> ids) {
        Set<String> volumeIds = ids.stream().map(VolumeReport::volumeOf)
                .collect(Collectors.toCollection(LinkedHashSet::new));
        try {
            worker.execute(() -> volumeIds.forEach(this::reconcile));
        } catch (RejectedExecutionException closing) {
            LOG.debug("not applying changes of {} volume(s): the node is stopping", volumeIds.size());
        }
    }

    private void reconcile(String id) {
        try {
            VolumeRecords.Stored storedDesire = cluster.volumes().desired().get(id);
            Optional<VolumeDesire> desire = storedDesire == null ? Optional.empty()
                    : ClusterJson.decode(id, storedDesire.json(), VolumeDesire.class);
            if (desire.isPresent() && desire.get().nodeIds().contains(self)) {
                apply(desire.get(), report(VolumeReport.stateId(desire.get(), self)));
            } else if (storedDesire == null) {
                // This node's report on a volume without a record: its copy goes (the primary's report
                // is under the volume's id, a secondary's under the id and its node's).
                for (String stateId : List.of(id, VolumeReport.secondaryStateId(id, self))) {
                    VolumeReport own = report(stateId);
                    if (own != null && own.nodeId().equals(self)) {
                        remove(id, own.project(), stateId);
                    }
                }
            }
        } catch (ClusterException e) {
            // The next change of the volume, or the next fresh read of the records, tries again.
            LOG.warn("cannot report on volume {} to etcd: {}", id, e.getMessage());
        } catch (RuntimeException e) {
            LOG.error("applying the cluster's state of volume {} failed", id, e);
        }
    }

    private VolumeReport report(String stateId) {
        return ClusterVolumes.report(stateId, cluster.volumes().states().get(stateId));
    }

    private void apply(VolumeDesire desire, VolumeReport report) throws ClusterException {
        boolean primary = desire.holder().equals(self);
        Runnable again = () -> submit(Set.of(desire.id())); // the volume looked at anew, as it is then
        if (primary) {
            copies.rejoinReturned(desire, again); // a secondary's report that it serves its copy again brings it here
            copies.giveBack(desire, again);
            copies.carryOutSnapshots(desire);
        }
        Optional<Volume> held = local.find(desire.project(), desire.id());
        if (report != null && report.nodeId().equals(self) && report.generation() == desire.generation()
                && (held.isPresent() && copies.serving(desire) || report.error() != null)) {
            return; // already reported, and (if it was applied) still here and served
        }
        if (primary && desire.replicas() > 1 && !copies.secondariesReady(desire)
                && !copies.waitedForSecondaries(desire, again)) {
            return; // each in-sync secondary's report of this generation, or the end of the wait, brings it back
        }
        Volume volume;
        try {
            revertIfAsked(desire, report);
            volume = held.isEmpty() ? create(desire) : change(desire, held.get());
            copies.serve(desire);
        } catch (RuntimeException e) {
            refuse(desire, e);
            return;
        }
        boolean secondary = !primary;
        cluster.volumeTransactions().putState(VolumeReport.stateId(desire, self), ClusterJson.encode(new VolumeReport(
                self, desire.project(), desire.generation(),
                secondary ? copies.replicaNqn(desire.id()) : volume.nqn(),
                secondary ? ReplicaSubsystem.NSID : volume.nsid(), volume.compression(), null, null, null)));
    }

    /**
     * Every copy gets the volume's hosts and limits: each node holding one shows it to the hosts (a
     * secondary's path inaccessible), and a secondary promoted later serves them as the primary did.
     */
    private Volume create(VolumeDesire desire) {
        Volume volume = local.create(new VolumeManager.Identity(desire.id(), desire.uuid(), desire.nguid()),
                desire.project(), new CreateVolumeRequest(desire.name(), desire.sizeBytes(),
                        desire.hosts(), desire.compression(), desire.replicas(), desire.sourceSnapshotId(), null,
                        desire.requireAuthentication(), desire.qos()));
        LOG.info("made volume {} '{}' of project {}, placed here by the cluster (generation {})", desire.id(),
                desire.name(), desire.project(), desire.generation());
        return volume;
    }

    /**
     * Each API change the desired state differs in; the local manager skips what already matches. Hosts
     * and limits apply on every copy: hosts have a path to each.
     */
    private Volume change(VolumeDesire desire, Volume held) {
        String project = desire.project();
        if (desire.sizeBytes() != held.sizeBytes()) {
            local.extend(project, desire.id(), desire.sizeBytes());
            copies.resized(desire.id());
        }
        if (!desire.name().equals(held.name())
                || (desire.compression() != null && desire.compression() != held.compression())) {
            local.update(project, desire.id(), new UpdateVolumeRequest(desire.name(), desire.compression()));
        }
        if (!Set.copyOf(desire.hosts()).equals(Set.copyOf(held.hosts()))) {
            local.setHosts(project, desire.id(), desire.hosts());
        }
        if (!desire.qos().equals(held.qos())) {
            local.setQos(project, desire.id(), desire.qos());
        }
        if (desire.replicas() > 1) {
            matchSnapshots(desire);
        }
        return local.find(project, desire.id()).orElseThrow();
    }

    /**
     * A secondary reverts its copy at the generation at which the primary, its writes parked, recorded
     * that it reverted its own; once only: a copy that reported that generation already (before a
     * restart, say) may have taken writes since.
     */
    private void revertIfAsked(VolumeDesire desire, VolumeReport report) {
        RevertEntry revert = desire.revert();
        if (revert != null && revert.generation() == desire.generation() && !desire.holder().equals(self)
                && (report == null || report.generation() < desire.generation())) {
            local.revert(desire.project(), desire.id(), revert.snapshotId());
        }
    }

    /**
     * A replicated volume's copy keeps the snapshots its record lists: it takes those the primary took
     * (with the volume's writes parked, so that every copy's is the same) and deletes those the record no
     * longer lists (deleted, or not taken by every copy in time), also when it comes back after missing
     * their deletion. One the primary has not taken yet is left to it.
     */
    private void matchSnapshots(VolumeDesire desire) {
        String project = desire.project();
        Set<String> listed = desire.snapshots().stream().map(SnapshotEntry::id).collect(Collectors.toSet());
        for (Snapshot own : local.listSnapshots(project, null)) {
            if (own.sourceVolumeId().equals(desire.id()) && !listed.contains(own.id())) {
                local.deleteSnapshot(project, own.id());
            }
        }
        for (SnapshotEntry entry : desire.snapshots()) {
            if (entry.state() != SnapshotEntry.State.WANTED && local.findSnapshot(project, entry.id()).isEmpty()) {
                local.createSnapshot(entry.id(), Instant.ofEpochMilli(entry.createdAtMillis()), project,
                        new CreateSnapshotRequest(entry.name(), desire.id()));
            }
        }
    }

    /** Reports why the generation was not applied, in terms the API that wrote it can answer with. */
    private void refuse(VolumeDesire desire, RuntimeException refusal) throws ClusterException {
        VolumeReport.ErrorKind kind = switch (refusal) {
            case InvalidVolumeRequestException e -> VolumeReport.ErrorKind.INVALID;
            case InsufficientCapacityException e -> VolumeReport.ErrorKind.CAPACITY;
            case VolumeConflictException e -> VolumeReport.ErrorKind.CONFLICT;
            case ChangeNotMadeException e -> VolumeReport.ErrorKind.NOT_MADE;
            default -> VolumeReport.ErrorKind.FAILED;
        };
        String field = switch (refusal) {
            case InvalidVolumeRequestException e -> e.field();
            case VolumeConflictException e -> e.field();
            default -> null;
        };
        String why;
        if (kind == VolumeReport.ErrorKind.FAILED) {
            LOG.error("volume {}: cannot apply generation {}", desire.id(), desire.generation(), refusal);
            why = "the node could not apply the change; its log has the details";
        } else {
            LOG.warn("volume {}: generation {} refused: {}", desire.id(), desire.generation(), refusal.getMessage());
            why = refusal.getMessage();
        }
        Optional<Volume> held = local.find(desire.project(), desire.id());
        cluster.volumeTransactions().putState(VolumeReport.stateId(desire, self), ClusterJson.encode(new VolumeReport(
                self, desire.project(), desire.generation(), held.map(Volume::nqn).orElse(null),
                held.map(Volume::nsid).orElse(0),
                held.map(Volume::compression).orElse(false), why, kind,
                field)));
    }

    /**
     * A secondary stops serving its copy to the primary before the copy goes; a primary stops serving
     * hosts (the deletion hides the namespace) before it closes its connections to the secondaries.
     */
    private void remove(String id, String project, String stateId) throws ClusterException {
        copies.stopServingSecondary(id);
        try {
            local.delete(project, id);
            LOG.info("deleted volume {} of project {}: the cluster no longer has it", id, project);
        } catch (NotFoundException alreadyGone) {
            // A create this node refused, or a deletion done before a restart: nothing to delete.
        }
        copies.closePrimary(id);
        copies.stopServingHosts(id);
        cluster.volumeTransactions().deleteState(stateId);
    }

    /** Stops applying changes; one under way finishes first (bounded by the engine's own timeouts). */
    @Override
    public void close() {
        cluster.volumes().onChange(ids -> { });
        worker.shutdownNow();
        try {
            worker.awaitTermination(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
