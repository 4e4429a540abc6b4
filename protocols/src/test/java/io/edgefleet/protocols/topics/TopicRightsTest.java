package io.edgefleet.protocols.topics;

import static io.edgefleet.protocols.topics.TopicRights.Action.PUBLISH;
import static io.edgefleet.protocols.topics.TopicRights.Action.SUBSCRIBE;
import static org.assertj.core.api.Assertions.assertThat;

import io.edgefleet.protocols.topics.TopicRights.Rule;
import java.util.List;
import org.junit.jupiter.api.Test;

class TopicRightsTest {
    private static final String A = "plant-1/cam-a";

    private static boolean pub(String who, String topic) {
        return TopicRights.allows(who, PUBLISH, topic);
    }

    private static boolean sub(String who, String filter) {
        return TopicRights.allows(who, SUBSCRIBE, filter);
    }

    @Test
    void a_device_publishes_its_own_state_telemetry_and_acks_and_nothing_of_another_device() {
        assertThat(pub(A, "ef/v1/plant-1/cam-a/state")).isTrue();
        assertThat(pub(A, "ef/v1/plant-1/cam-a/telemetry")).isTrue();
        assertThat(pub(A, "ef/v1/plant-1/cam-a/cmd/ack")).isTrue();
        for (String kind : List.of("state", "telemetry", "cmd/ack", "cmd")) {
            assertThat(pub(A, "ef/v1/plant-1/cam-b/" + kind)).as(kind).isFalse();
            assertThat(pub(A, "ef/v1/plant-2/cam-a/" + kind)).as(kind).isFalse();
        }
    }

    @Test
    void a_device_never_publishes_a_command_not_even_its_own() {
        assertThat(pub(A, "ef/v1/plant-1/cam-a/cmd")).isFalse();
        assertThat(pub(A, "ef/v1/plant-1/cam-b/cmd")).isFalse();
    }

    @Test
    void a_device_asks_agents_of_its_own_fleet_and_answers_requesters_of_its_own_fleet() {
        assertThat(pub(A, "ef/v1/plant-1/cam-b/infer/kws")).isTrue();
        assertThat(pub(A, "ef/v1/plant-2/cam-b/infer/kws")).isFalse();
        assertThat(pub(A, "ef/replies/plant-1/sensor-3")).isTrue();
        assertThat(pub(A, "ef/replies/plant-1/sensor-3/req/42")).isTrue();
        assertThat(pub(A, "ef/replies/plant-2/sensor-3/req/42")).isFalse();
        assertThat(pub(A, "ef/replies")).isFalse();
    }

    @Test
    void a_device_subscribes_to_its_own_commands_inference_and_reply_space_only() {
        assertThat(sub(A, "ef/v1/plant-1/cam-a/cmd")).isTrue();
        assertThat(sub(A, "ef/v1/plant-1/cam-a/infer/+")).isTrue();
        assertThat(sub(A, "ef/v1/plant-1/cam-a/infer/kws")).isTrue();
        assertThat(sub(A, "ef/replies/plant-1/cam-a/#")).isTrue();
        assertThat(sub(A, "ef/replies/plant-1/cam-a/req/+")).isTrue();

        assertThat(sub(A, "ef/v1/plant-1/cam-b/cmd")).isFalse();
        assertThat(sub(A, "ef/v1/plant-1/cam-b/infer/+")).isFalse();
        assertThat(sub(A, "ef/replies/plant-1/cam-b/#")).isFalse();
        assertThat(sub(A, "ef/replies/plant-1/+/#")).isFalse();
        assertThat(sub(A, "ef/v1/plant-1/cam-a/state")).isFalse();
        assertThat(sub(A, "ef/v1/plant-1/cam-a/cmd/ack")).isFalse();
    }

    @Test
    void a_device_gets_nothing_with_wildcard_filters_reaching_beyond_its_own_topics() {
        for (String f : List.of("#", "+", "+/#", "ef/#", "ef/v1/#", "ef/v1/+/+/cmd", "ef/v1/plant-1/+/cmd", "ef/v1/plant-1/#",
                "ef/v1/plant-1/cam-a/#", "ef/v1/plant-1/cam-a/+", "ef/v1/+/cam-a/cmd", "ef/replies/#", "ef/replies/+/cam-a/#",
                "ef/v1/plant-1/cam-a/infer/#", "$SYS/#", "$SYS/broker/clients/connected", "$CONTROL/dynamic-security/v1",
                "$share/g/ef/v1/plant-1/cam-a/cmd", "ef/v1/plant-1/+/infer/+")) {
            assertThat(sub(A, f)).as(f).isFalse();
        }
    }

    @Test
    void malformed_topics_and_filters_are_refused_not_errors() {
        for (String t : List.of("", "ef/v1/plant-1/cam-a/state/#", "ef/v1/plant-1/cam-a/+", "ef/v1/plant-1/cam-a/stat#",
                "ef/v1/plant-1/cam-a/state\0")) {
            assertThat(pub(A, t)).as(t).isFalse();
        }
        assertThat(pub(A, null)).isFalse();
        for (String f : List.of("ef/v1/plant-1/cam-a/cm+", "ef/v1/#/cam-a/cmd", "ef/replies/plant-1/cam-a/#/x", "$share//ef/v1/+/+/telemetry",
                "$share/g", "$share/g+/ef/v1/+/+/telemetry")) {
            assertThat(sub(A, f)).as(f).isFalse();
            assertThat(sub(TopicRights.INGEST, f)).as(f).isFalse();
        }
    }

    @Test
    void the_control_service_commands_every_device_and_reads_states_and_acks_only() {
        String c = TopicRights.CONTROL;
        assertThat(pub(c, "ef/v1/plant-1/cam-a/cmd")).isTrue();
        assertThat(sub(c, "ef/v1/+/+/state")).isTrue();
        assertThat(sub(c, "ef/v1/+/+/cmd/ack")).isTrue();
        assertThat(sub(c, "ef/v1/plant-1/+/state")).isTrue();

        assertThat(pub(c, "ef/v1/plant-1/cam-a/state")).isFalse();
        assertThat(pub(c, "ef/v1/plant-1/cam-a/telemetry")).isFalse();
        assertThat(pub(c, "ef/v1/plant-1/cam-a/infer/kws")).isFalse();
        assertThat(sub(c, "ef/v1/+/+/telemetry")).isFalse();
        assertThat(sub(c, "#")).isFalse();
        // replicas split states and acks through a shared subscription (issue 18); nothing else is shared
        assertThat(sub(c, "$share/g/ef/v1/+/+/state")).isTrue();
        assertThat(sub(c, "$share/g/ef/v1/+/+/cmd/ack")).isTrue();
        assertThat(sub(c, "$share/g/ef/v1/+/+/logs")).isFalse();
        assertThat(sub(c, "$share/g/ef/v1/+/+/telemetry")).isFalse();
        assertThat(sub(c, "$share/g/ef/v1/+/+/cmd")).isFalse();
    }

    @Test
    void the_ingest_service_reads_telemetry_plainly_or_shared_and_publishes_nothing() {
        String i = TopicRights.INGEST;
        assertThat(sub(i, "ef/v1/+/+/telemetry")).isTrue();
        assertThat(sub(i, "$share/ingest/ef/v1/+/+/telemetry")).isTrue();
        assertThat(sub(i, "ef/v1/plant-1/cam-a/telemetry")).isTrue();

        assertThat(sub(i, "ef/v1/+/+/state")).isFalse();
        assertThat(sub(i, "$share/ingest/ef/v1/+/+/cmd")).isFalse();
        assertThat(sub(i, "ef/v1/#")).isFalse();
        assertThat(pub(i, "ef/v1/plant-1/cam-a/telemetry")).isFalse();
        assertThat(pub(i, "ef/v1/plant-1/cam-a/cmd")).isFalse();
    }

    @Test
    void unknown_services_malformed_identities_and_anonymous_clients_have_no_rights() {
        for (String who : java.util.Arrays.asList(null, "", "broker-admin", "cloud-inference", "plant-1/", "/cam-a", "plant-1/cam-a/x",
                "plant-1/+", "#", "plant-1/..")) {
            assertThat(TopicRights.rules(who)).as(String.valueOf(who)).isEmpty();
            assertThat(pub(who, "ef/v1/plant-1/cam-a/state")).isFalse();
            assertThat(sub(who, "ef/v1/+/+/telemetry")).isFalse();
        }
    }

    @Test
    void the_rule_list_is_exactly_the_documented_one_for_config_generators() {
        assertThat(TopicRights.rules("f/d")).containsExactly(
                new Rule(PUBLISH, "ef/v1/f/d/state", false),
                new Rule(PUBLISH, "ef/v1/f/d/telemetry", false),
                new Rule(PUBLISH, "ef/v1/f/d/logs", false),
                new Rule(PUBLISH, "ef/v1/f/d/cmd/ack", false),
                new Rule(PUBLISH, "ef/v1/f/+/infer/+", false),
                new Rule(PUBLISH, "ef/replies/f/+/#", false),
                new Rule(SUBSCRIBE, "ef/v1/f/d/cmd", false),
                new Rule(SUBSCRIBE, "ef/v1/f/d/infer/+", false),
                new Rule(SUBSCRIBE, "ef/replies/f/d/#", false));
        assertThat(TopicRights.rules(TopicRights.CONTROL)).containsExactly(
                new Rule(PUBLISH, "ef/v1/+/+/cmd", false),
                new Rule(SUBSCRIBE, "ef/v1/+/+/state", true),
                new Rule(SUBSCRIBE, "ef/v1/+/+/cmd/ack", true),
                new Rule(SUBSCRIBE, "ef/v1/+/+/logs", false));
        assertThat(TopicRights.rules(TopicRights.INGEST)).containsExactly(new Rule(SUBSCRIBE, "ef/v1/+/+/telemetry", true));
    }

    @Test
    void filter_matching_follows_mqtt_wildcard_semantics() {
        assertThat(TopicRights.matches("a/#", "a")).isTrue();
        assertThat(TopicRights.matches("a/+", "a/b")).isTrue();
        assertThat(TopicRights.matches("a/+", "a/b/c")).isFalse();
        assertThat(TopicRights.matches("a/b", "a")).isFalse();
        assertThat(TopicRights.covers("a/+/c", "a/b/c")).isTrue();
        assertThat(TopicRights.covers("a/+/c", "a/+/c")).isTrue();
        assertThat(TopicRights.covers("a/b/c", "a/+/c")).isFalse();
        assertThat(TopicRights.covers("a/#", "a/+/#")).isTrue();
        assertThat(TopicRights.covers("a/+", "a/#")).isFalse();
        assertThat(TopicRights.covers("a/+", "a/b/c")).isFalse();
    }
}
