package io.basalt.cluster.placement;

/** The cluster cannot place a volume as asked; the message says what it has against what is needed. */
public final class PlacementException extends Exception {
    public PlacementException(String message) {
        super(message);
    }
}
