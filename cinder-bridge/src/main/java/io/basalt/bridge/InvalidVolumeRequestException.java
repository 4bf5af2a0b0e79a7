package io.basalt.bridge;

/** A request that cannot be accepted as sent; {@link #field()} names the culprit when there is one. */
public final class InvalidVolumeRequestException extends RuntimeException {
    private final String field;

    /** @param field the offending request field, or null when the body as a whole is at fault */
    public InvalidVolumeRequestException(String field, String message) {
        super(message);
        this.field = field;
    }

    public String field() {
        return field;
    }
}
