// Author: Reel
// License: MIT
// Rings ripple out from the centre, strongest halfway, while the slides crossfade.
// `amplitude` is how far the rings push the picture, in fractions of the frame height;
// `frequency` is in radians per frame height; `speed` is how many radians the rings
// travel outwards over the transition.

uniform float amplitude; // = 0.01
uniform float frequency; // = 40.0
uniform float speed; // = 30.0

// sin(x) to within 0.001 from plain arithmetic (a parabola, then one correction), so
// the CPU compositor can repeat it to the bit: a driver's sin need not match numpy's.
float wave(float x) {
    float t = x * 0.15915494;     // turns
    t = t - floor(t) - 0.5;       // -0.5..0.5, where sin(2π(t + 0.5)) = -sin(2πt)
    float y = t * (8.0 - 16.0 * abs(t));
    return -(y * (0.775 + 0.225 * abs(y)));
}

vec4 transition(vec2 uv) {
    vec2 d = (uv - 0.5) * vec2(ratio, 1.0);
    float dist = sqrt(d.x * d.x + d.y * d.y);  // in frame heights
    float swell = 4.0 * progress * (1.0 - progress);  // 0 at both ends, 1 halfway
    // Each point moves along its radius by amplitude · wave: (uv − 0.5) · push is a
    // step of that length in frame heights.
    // (Parameters are held to sane ranges, so no product overflows.)
    float wiggle = wave(dist * clamp(frequency, -1000.0, 1000.0) - progress * clamp(speed, -1000.0, 1000.0));
    float push = clamp(amplitude, -1.0, 1.0) * swell * wiggle / max(dist, 1e-4);
    vec2 at = uv + (uv - 0.5) * push;  // outside the frame, the edge texels repeat
    return mix(getFromColor(at), getToColor(at), progress);
}
