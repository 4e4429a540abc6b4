package io.edgefleet.cloud.ingest;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;

/** Creates the telemetry and events topics when they are missing (idempotent). */
final class KafkaTopics {
    private KafkaTopics() {
    }

    static void ensure(KafkaSettings s) {
        java.util.Map<String, Object> props = s.base();
        props.put("request.timeout.ms", 10_000);
        props.put("default.api.timeout.ms", 30_000);
        try (Admin admin = Admin.create(props)) {
            Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
            List<NewTopic> missing = new java.util.ArrayList<>();
            if (!existing.contains(s.telemetryTopic())) {
                missing.add(new NewTopic(s.telemetryTopic(), s.partitions(), s.replicationFactor()));
            }
            if (!existing.contains(s.eventsTopic())) {
                missing.add(new NewTopic(s.eventsTopic(), 1, s.replicationFactor()));
            }
            if (!missing.isEmpty()) {
                try {
                    admin.createTopics(missing).all().get(30, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw e;
                    }
                }
            }
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("Kafka at " + s.bootstrapServers() + " did not create the topics: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
