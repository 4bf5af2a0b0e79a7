package io.basalt.bridge.http;

import io.basalt.bridge.VolumeConflictException;
import io.basalt.bridge.VolumeNotFoundException;
import io.basalt.bridge.VolumeService;
import io.basalt.bridge.api.CreateVolumeRequest;
import io.basalt.bridge.api.Portal;
import io.basalt.bridge.api.Volume;
import io.vertx.core.Context;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/** A volume service kept in maps, with hooks to make it fail and to catch calls made on an event loop. */
final class InMemoryVolumeService implements VolumeService {
    static final String NQN = "nqn.2026-11.io.basalt:subsystem:test";
    static final Portal PORTAL = new Portal("tcp", "192.0.2.10", 4420);

    private final Map<String, Volume> byId = new ConcurrentHashMap<>();
    private final Map<String, String> idByName = new ConcurrentHashMap<>();
    private final AtomicInteger nextNsid = new AtomicInteger(1);
    private final AtomicInteger eventLoopCalls = new AtomicInteger();
    private final AtomicReference<RuntimeException> nextFailure = new AtomicReference<>();

    @Override
    public Volume create(CreateVolumeRequest request) {
        enter();
        String id = UUID.randomUUID().toString();
        // Widen the window between the uniqueness check and the insert that concurrent creates race for.
        Thread.yield();
        if (idByName.putIfAbsent(request.name(), id) != null) {
            throw new VolumeConflictException("name", "a volume named " + request.name() + " already exists");
        }
        Volume volume = new Volume(id, request.name(), request.sizeBytes(), NQN, nextNsid.getAndIncrement(),
                UUID.randomUUID(), "00112233445566778899aabbccddeeff", request.hosts(), List.of(PORTAL));
        byId.put(id, volume);
        return volume;
    }

    @Override
    public List<Volume> list() {
        enter();
        return new ArrayList<>(byId.values());
    }

    @Override
    public Optional<Volume> find(String id) {
        enter();
        return Optional.ofNullable(byId.get(id));
    }

    @Override
    public Volume setHosts(String id, List<String> hosts) {
        enter();
        Volume updated = byId.computeIfPresent(id, (key, v) -> new Volume(v.id(), v.name(), v.sizeBytes(),
                v.nqn(), v.nsid(), v.uuid(), v.nguid(), hosts, v.portals()));
        if (updated == null) {
            throw new VolumeNotFoundException(id);
        }
        return updated;
    }

    @Override
    public void delete(String id) {
        enter();
        Volume removed = byId.remove(id);
        if (removed == null) {
            throw new VolumeNotFoundException(id);
        }
        idByName.remove(removed.name());
    }

    /** The next service call throws {@code failure} before changing anything. */
    void failNextCall(RuntimeException failure) {
        nextFailure.set(failure);
    }

    int eventLoopCalls() {
        return eventLoopCalls.get();
    }

    void clear() {
        byId.clear();
        idByName.clear();
    }

    private void enter() {
        if (Context.isOnEventLoopThread()) {
            eventLoopCalls.incrementAndGet();
        }
        RuntimeException failure = nextFailure.getAndSet(null);
        if (failure != null) {
            throw failure;
        }
    }
}
