package io.basalt.bridge;

/** A request clashes with an existing volume, such as a duplicate name. */
public final class VolumeConflictException extends RuntimeException {
    private final String field;

    /** @param field the request field that clashes */
    public VolumeConflictException(String field, String message) {
        super(message);
        this.field = field;
    }

    public String field() {
        return field;
    }
}
