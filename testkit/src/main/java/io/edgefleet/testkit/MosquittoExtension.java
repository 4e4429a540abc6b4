package io.edgefleet.testkit;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Starts a real Mosquitto for a test class and stops it after the class. Use it as
 * {@code @ExtendWith(MosquittoExtension.class)} and take a {@link MosquittoBroker} parameter in a
 * test, constructor or {@code @BeforeAll} method, or register it in a static field with
 * {@code @RegisterExtension} and call {@link #broker()}.
 *
 * <p>A test that stopped or killed the broker leaves it stopped; the next test of the class
 * gets it started again, so tests stay independent.
 */
public final class MosquittoExtension implements BeforeAllCallback, BeforeEachCallback, AfterAllCallback, ParameterResolver {
    private MosquittoBroker broker;

    /** The broker of the current test class; started. */
    public MosquittoBroker broker() {
        if (broker == null) {
            throw new IllegalStateException("the broker starts before the test class; register this extension in a static field");
        }
        return broker;
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        broker = Mosquitto.start();
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        if (!broker.isRunning()) {
            broker.start();
        }
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (broker != null) {
            broker.close();
            broker = null;
        }
    }

    @Override
    public boolean supportsParameter(ParameterContext p, ExtensionContext e) {
        return p.getParameter().getType() == MosquittoBroker.class;
    }

    @Override
    public Object resolveParameter(ParameterContext p, ExtensionContext e) {
        return broker();
    }
}
