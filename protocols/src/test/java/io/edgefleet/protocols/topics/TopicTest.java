package io.edgefleet.protocols.topics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgefleet.protocols.ProtocolException;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class TopicTest {

    @ParameterizedTest
    @ValueSource(strings = {
        "ef/v1/plant-7/cam-0042/state",
        "ef/v1/plant-7/cam-0042/telemetry",
        "ef/v1/plant-7/cam-0042/cmd",
        "ef/v1/plant-7/cam-0042/cmd/ack",
        "ef/v1/plant.7/CAM_42/infer/kws-v2",
    })
    void parses_and_rebuilds_every_kind_of_topic(String topic) {
        Topic t = Topic.parse(topic);
        assertThat(t.value()).isEqualTo(topic);
        assertThat(Topic.parse(t.value())).isEqualTo(t);
    }

    @Test
    void builders_produce_the_design_topics() {
        assertThat(Topic.state("f", "d").value()).isEqualTo("ef/v1/f/d/state");
        assertThat(Topic.telemetry("f", "d").value()).isEqualTo("ef/v1/f/d/telemetry");
        assertThat(Topic.command("f", "d").value()).isEqualTo("ef/v1/f/d/cmd");
        assertThat(Topic.commandAck("f", "d").value()).isEqualTo("ef/v1/f/d/cmd/ack");
        Topic infer = Topic.infer("f", "d", "kws");
        assertThat(infer.value()).isEqualTo("ef/v1/f/d/infer/kws");
        assertThat(infer.model()).contains("kws");
        assertThat(infer.kind()).isEqualTo(TopicKind.INFER);
    }

    @Test
    void filters_use_wildcards_only_where_intended() {
        assertThat(Topic.filterAll(TopicKind.TELEMETRY)).isEqualTo("ef/v1/+/+/telemetry");
        assertThat(Topic.filterAll(TopicKind.INFER)).isEqualTo("ef/v1/+/+/infer/+");
        assertThat(Topic.sharedFilterAll("ingest", TopicKind.TELEMETRY)).isEqualTo("$share/ingest/ef/v1/+/+/telemetry");
        assertThat(Topic.inferFilter("f", "d")).isEqualTo("ef/v1/f/d/infer/+");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "ef/v1/+/d/state            | fleet        | '+' is not a valid id",
        "ef/v1/f/#/state            | device       | '#' is not a valid id",
        "ef/v1//d/state             | fleet        | '' is not a valid id",
        "ef/v1/f/d/infer            | topic        | names no model after infer/",
        "ef/v1/f/d/infer/a+b        | model        | 'a+b' is not a valid id",
        "ef/v2/f/d/state            | topic        | is not an EdgeFleet v1 topic",
        "ef/v1/f/d                  | topic        | is not an EdgeFleet v1 topic",
        "ef/v1/f/d/status           | topic.kind   | 'status' is not one of state, telemetry, cmd, cmd/ack, infer/{model}",
        "ef/v1/f/d/cmd/nack         | topic.kind   | 'cmd/nack' is not one of",
        "ef/v1/f/d/infer/m/extra    | topic        | has 7 segments",
        "ef/v1/f/d/state/           | topic.kind   | 'state/' is not one of",
    })
    void refuses_malformed_topics_naming_the_segment(String topic, String path, String reason) {
        assertThatThrownBy(() -> Topic.parse(topic))
                .isInstanceOf(ProtocolException.class)
                .satisfies(e -> {
                    ProtocolException pe = (ProtocolException) e;
                    assertThat(pe.path()).isIn(path, "topic." + path);
                    assertThat(pe.reason()).contains(reason);
                });
    }

    @Test
    void ids_longer_than_64_characters_are_refused() {
        String longId = "a".repeat(65);
        assertThatThrownBy(() -> Topic.state("f", longId))
                .isInstanceOf(ProtocolException.class)
                .hasMessageContaining("device: '" + longId + "' is not a valid id");
        assertThat(Topic.state("f", "a".repeat(64)).device()).hasSize(64);
    }

    @Test
    void only_infer_topics_name_a_model() {
        assertThatThrownBy(() -> new Topic("f", "d", TopicKind.STATE, Optional.of("m")))
                .isInstanceOf(ProtocolException.class)
                .hasMessage("model: only infer topics name a model");
        assertThatThrownBy(() -> Topic.parse(null)).isInstanceOf(ProtocolException.class).hasMessage("topic: is required");
    }
}
