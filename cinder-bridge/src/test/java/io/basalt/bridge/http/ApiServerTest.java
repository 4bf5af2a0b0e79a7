package io.basalt.bridge.http;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** One API server for a test class, with a fresh service for each test. */
abstract class ApiServerTest {
    static ApiServer api;

    @BeforeAll
    static void startServer() throws Exception {
        api = new ApiServer();
    }

    @AfterAll
    static void stopServer() throws Exception {
        api.close();
    }

    @AfterEach
    void noServiceCallOnAnEventLoop() {
        assertEquals(0, api.service.eventLoopCalls(), "service called on an event loop");
        api.service.clear();
    }
}
