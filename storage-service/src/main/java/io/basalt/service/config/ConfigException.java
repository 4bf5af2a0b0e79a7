package io.basalt.service.config;

/** The configuration cannot be used; the message tells the operator which setting to fix. */
public final class ConfigException extends RuntimeException {
    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
