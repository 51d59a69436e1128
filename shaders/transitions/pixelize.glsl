// Author: Reel
// License: MIT
// Both slides break into blocks that grow to their largest halfway, while crossfading.
// `squares` is the number of blocks down the frame at the coarsest moment.

uniform float squares; // = 20.0

vec4 transition(vec2 uv) {
    float peak = min(progress, 1.0 - progress) * 2.0;  // 0 at both ends, 1 halfway
    vec2 at = uv;
    if (peak > 0.0) {
        // A whole number of block rows, so the grid fits the frame and steps rather than swims.
        float rows = floor(clamp(squares, 1.0, 65536.0) / max(peak, 1e-6));
        vec2 blocks = vec2(rows * ratio, rows);
        at = (floor(uv * blocks) + 0.5) / blocks;  // each block shows its centre
    }
    return mix(getFromColor(at), getToColor(at), progress);
}
