// The PASCAL VOC colour map: label i's colour spreads the bits of i over the channels from the top bit down (bit 0
// to red, 1 to green, 2 to blue, then the next three bits one place lower, and so on), so that the first labels
// get strong, distinct colours. This is the palette of VOC's ground-truth PNGs; tagmap gives it to segmenters.
export function vocColor(label: number): [number, number, number] {
  const rgb: [number, number, number] = [0, 0, 0];
  for (let shift = 7, rest = label; rest > 0 && shift >= 0; shift--, rest >>= 3)
    for (let channel = 0; channel < 3; channel++) rgb[channel] |= ((rest >> channel) & 1) << shift;
  return rgb;
}
