// Author: Reel
// License: MIT
// The slides are two sides of a cube that turns to the left, seen in perspective; each
// face darkens towards the fold between them, and the space around the cube is `shadow`.

uniform vec3 shadow; // = vec3(0.0)

const float EYE = 3.0;  // distance from the eye to the screen, in frame heights

vec4 transition(vec2 uv) {
    // Lengths are in frame heights, centred on the screen, y up; a face is `ratio` wide.
    float half_width = ratio * 0.5;
    // cos and sin of the turn θ (0 → 90°) from q ≈ tan(θ/2): plain arithmetic, exactly
    // (1, 0) at progress 0 and (0, 1) at 1.
    float q = progress * (0.78125 + 0.21875 * progress * progress);
    float qq = q * q;
    float c = (1.0 - qq) / (1.0 + qq);
    float s = (2.0 * q) / (1.0 + qq);
    // Halfway the cube backs off by a quarter of a face, so its leading edge stays in frame.
    float back = half_width * (2.0 * progress * (1.0 - progress));
    float x = (uv.x - 0.5) * ratio;
    float y = uv.y - 0.5;

    // The current slide: the front face, turned by θ about the cube's vertical axis
    // (half a face behind the screen). Where along it does the eye's ray through x land?
    float reach = EYE + back + half_width * (1.0 - c);
    float across = (x * reach + EYE * half_width * s) / (EYE * c + x * s);
    if (EYE * c + x * s > 0.0 && abs(across) <= half_width) {
        float v = y * ((reach - across * s) / EYE) + 0.5;  // nearer the eye is taller
        if (v >= 0.0 && v <= 1.0) {
            float u = across / ratio + 0.5;
            return mix(getFromColor(vec2(u, v)), vec4(shadow, 1.0), s * u * 0.8);
        }
        return vec4(shadow, 1.0);
    }
    // The next slide: the face to the right of it, turning to the front.
    float reach_next = EYE + back + half_width * (1.0 - s);
    float across_next = (EYE * half_width * c - x * reach_next) / (x * c - EYE * s);
    if (x * c - EYE * s < 0.0 && abs(across_next) <= half_width) {
        float v = y * ((reach_next + across_next * c) / EYE) + 0.5;
        if (v >= 0.0 && v <= 1.0) {
            float u = across_next / ratio + 0.5;
            return mix(getToColor(vec2(u, v)), vec4(shadow, 1.0), c * (1.0 - u) * 0.8);
        }
    }
    return vec4(shadow, 1.0);
}
