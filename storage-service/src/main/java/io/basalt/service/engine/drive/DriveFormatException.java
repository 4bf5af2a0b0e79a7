package io.basalt.service.engine.drive;

import java.io.IOException;

/** A drive that this node must not use: foreign, of a newer format, damaged, or not blank. */
public final class DriveFormatException extends IOException {
    public DriveFormatException(String message) {
        super(message);
    }
}
