package io.edgefleet.testkit;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Starts a real single-node KRaft {@link KafkaBroker} in the test JVM for a test class. Use
 * {@code @ExtendWith(KafkaExtension.class)} and a {@link KafkaBroker} parameter, or a static
 * {@code @RegisterExtension} field and {@link #broker()}.
 */
public final class KafkaExtension implements BeforeAllCallback, AfterAllCallback, ParameterResolver {
    private KafkaBroker broker;

    public KafkaBroker broker() {
        if (broker == null) {
            throw new IllegalStateException("Kafka starts before the test class; register this extension in a static field");
        }
        return broker;
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        broker = KafkaBroker.start();
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
        return p.getParameter().getType() == KafkaBroker.class;
    }

    @Override
    public Object resolveParameter(ParameterContext p, ExtensionContext e) {
        return broker();
    }
}
