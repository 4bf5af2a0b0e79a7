package io.basalt.bridge.http;

import io.basalt.bridge.NotFoundException;
import io.basalt.bridge.VolumeConflictException;

import java.util.List;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Creates and deletes that a client may repeat after losing an answer. They run on a worker, inside
 * one service call each, so the service's own serialisation decides races between requests.
 */
final class IdempotentWrites {
    private IdempotentWrites() {
    }

    /**
     * The service refuses a taken name; only then are the objects of that name looked up, so the
     * common path costs one call. An existing object the request would have made is the answer;
     * anything else with that name stays a conflict.
     */
    static <T> Created<T> create(Supplier<T> create, Supplier<List<T>> sameName, Predicate<T> isRetry) {
        try {
            return new Created<>(create.get(), true);
        } catch (VolumeConflictException conflict) {
            if (!"name".equals(conflict.field())) {
                throw conflict;
            }
            return sameName.get().stream()
                    .filter(isRetry)
                    .findFirst()
                    .map(existing -> new Created<>(existing, false))
                    .orElseThrow(() -> conflict);
        }
    }

    /** Deleting what is not there succeeds: the caller wanted it gone, and it is. */
    static void delete(Runnable delete) {
        try {
            delete.run();
        } catch (NotFoundException alreadyGone) {
            // The outcome the caller asked for.
        }
    }
}
