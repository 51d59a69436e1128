// Author: Reel
// License: MIT
// The next slide replaces this one cell by cell, in an order set by seeded noise.
// `cells` is the number of cells down the frame (square cells; 540 is 2×2 pixels at
// 1080p, the finest grain the half-size colour planes can follow), `seed` picks the order.

uniform float cells; // = 540.0
uniform float seed; // = 0.0

vec4 transition(vec2 uv) {
    // Cells are laid out in frame coordinates, so both planes of a pixel find the same cell.
    float rows = clamp(cells, 1.0, 65536.0);
    uvec2 cell = uvec2(floor(uv * vec2(rows * ratio, rows)));
    uint bits = mix_bits(cell.x + mix_bits(cell.y + floatBitsToUint(seed)));
    float noise = float(bits >> 8u) * (1.0 / 16777216.0);  // 24 bits: exact, 0 ≤ noise < 1
    return noise < progress ? getToColor(uv) : getFromColor(uv);
}
