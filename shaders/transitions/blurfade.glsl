// Author: Reel
// License: MIT
// A crossfade through a frosted-glass blur that is strongest halfway.
// `radius` is the blur's reach at its strongest, in fractions of the frame height.

uniform float radius; // = 0.01

vec4 transition(vec2 uv) {
    float r = clamp(radius, 0.0, 1.0) * (4.0 * progress * (1.0 - progress));  // 0 at both ends
    // A stochastic blur: each slide is read once, at a random offset within ±r, fixed
    // per cell of 2×2 pixels at 1080p. One read per slide keeps the cost of a fade plus
    // a little arithmetic (an even blur would need dozens). Cells are laid out in frame
    // coordinates, so both planes of a pixel take the same offset.
    uvec2 cell = uvec2(floor(uv * vec2(540.0 * ratio, 540.0)));
    uint bits = mix_bits(cell.x * 0x9e3779b1u + cell.y);
    vec2 jitter = vec2(float(bits & 255u), float((bits >> 8u) & 255u)) * (r / 127.5) - r;
    vec2 near = vec2(jitter.x / ratio, jitter.y);
    vec2 far = vec2(jitter.y / ratio, -jitter.x);  // as long, turned a quarter: the slides scatter apart
    return mix(getFromColor(uv + near), getToColor(uv + far), progress);
}
