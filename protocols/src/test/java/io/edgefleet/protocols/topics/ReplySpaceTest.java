package io.edgefleet.protocols.topics;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ReplySpaceTest {
    @Test
    void a_reply_topic_names_its_requester_and_nothing_else_is_a_reply_topic() {
        assertThat(ReplySpace.of("ef/replies/plant-1/sensor-3")).contains(new ReplySpace("plant-1", "sensor-3"));
        assertThat(ReplySpace.of("ef/replies/plant-1/sensor-3/req/42")).contains(new ReplySpace("plant-1", "sensor-3"));
        assertThat(new ReplySpace("plant-1", "sensor-3").filter()).isEqualTo("ef/replies/plant-1/sensor-3/#");
        assertThat(ReplySpace.fleetFilter("plant-1")).isEqualTo("ef/replies/plant-1/+/#");
        for (String bad : new String[] {"ef/v1/plant-1/cam-0/cmd", "replies/x", "ef/replies/plant-1", "ef/replies/plant-1/+",
                "ef/replies/plant-1/s/#", "ef/replies//s", "ef/replies/plant-1/s/", "ef/replies/plant-1/s//x", "ef/replies/../s", ""}) {
            assertThat(ReplySpace.of(bad)).as(bad).isEmpty();
        }
        assertThat(ReplySpace.of(null)).isEmpty();
    }
}
