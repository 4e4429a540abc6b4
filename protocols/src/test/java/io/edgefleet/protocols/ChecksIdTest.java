package io.edgefleet.protocols;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The id rule shared by fleets, devices, models and versions: ids become topic segments, URL segments and file names. */
class ChecksIdTest {
    @ParameterizedTest
    @ValueSource(strings = {".", "..", "...", "", "a/b", "a+b", "#", "a b"})
    void path_like_and_unsafe_ids_are_refused_naming_the_field_and_the_rule(String id) {
        assertThatThrownBy(() -> Checks.id(id, "version"))
                .isInstanceOf(ProtocolException.class)
                .hasMessageContaining("version")
                .hasMessageContaining(Checks.ID_RULE);
        assertThat(Checks.ID.matcher(id).matches()).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {"1", "1.0", ".hidden-ok", "v..2", "a.", "kws_v2-int8", "0123456789012345678901234567890123456789012345678901234567890123"})
    void ordinary_ids_with_dots_are_accepted(String id) {
        assertThat(Checks.id(id, "version")).isEqualTo(id);
    }
}
