package io.basalt.bridge;

/**
 * Creating or growing a volume would provision more than the node's capacity times its
 * over-subscription ratio allows.
 */
public final class InsufficientCapacityException extends RuntimeException {
    public InsufficientCapacityException(String message) {
        super(message);
    }
}
