package io.edgefleet.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The in-JVM KRaft broker, end to end: idempotent producer, consumer group, per-key order. */
@ExtendWith(KafkaExtension.class)
class KafkaSmokeTest {

    @Test
    void produces_and_consumes_through_a_real_kraft_broker_keeping_per_key_order(KafkaBroker kafka) throws Exception {
        kafka.createTopic("edgefleet.telemetry.v1", 3);
        Properties pp = new Properties();
        pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        pp.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        pp.put(ProducerConfig.ACKS_CONFIG, "all");
        pp.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        pp.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        int devices = 5;
        int perDevice = 40;
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(pp)) {
            for (int seq = 0; seq < perDevice; seq++) {
                for (int d = 0; d < devices; d++) {
                    producer.send(new ProducerRecord<>("edgefleet.telemetry.v1", "dev-" + d, Integer.toString(seq)));
                }
            }
            producer.flush();
        }

        Properties cp = new Properties();
        cp.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        cp.put(ConsumerConfig.GROUP_ID_CONFIG, "ingest");
        cp.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        cp.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        cp.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        Map<String, List<Integer>> byDevice = new HashMap<>();
        int received = 0;
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(cp)) {
            consumer.subscribe(List.of("edgefleet.telemetry.v1"));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (received < devices * perDevice && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
                    byDevice.computeIfAbsent(r.key(), k -> new ArrayList<>()).add(Integer.parseInt(r.value()));
                    received++;
                }
            }
            consumer.commitSync();
        }
        assertThat(received).isEqualTo(devices * perDevice);
        List<Integer> expected = java.util.stream.IntStream.range(0, perDevice).boxed().toList();
        for (int d = 0; d < devices; d++) {
            assertThat(byDevice.get("dev-" + d)).as("dev-%d in order, once each", d).isEqualTo(expected);
        }
    }
}
