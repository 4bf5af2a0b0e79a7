package io.basalt.bridge.http;

/** The outcome of an idempotent create: the object, and whether this request made it or found it. */
record Created<T>(T object, boolean isNew) {

    int status() {
        return isNew ? 201 : 200;
    }
}
