package io.basalt.bridge;

/** The node has no drive at that index. */
public final class DriveNotFoundException extends NotFoundException {
    public DriveNotFoundException(int index) {
        super("drive", Integer.toString(index));
    }
}
