package dccp

import (
	"reflect"
	"testing"
)

// Add sums every field: a counter added to the struct but not to Add
// would be missing from the host's totals (stack.DCCPStats).
func TestCountersAddSumsEveryField(t *testing.T) {
	var a Counters
	v := reflect.ValueOf(&a).Elem()
	for i := range v.NumField() {
		v.Field(i).SetUint(uint64(i + 1))
	}
	var sum Counters
	sum.Add(a)
	sum.Add(a)
	sv := reflect.ValueOf(sum)
	for i := range v.NumField() {
		if got, want := sv.Field(i).Uint(), 2*uint64(i+1); got != want {
			t.Errorf("%s: %d after adding %d twice", v.Type().Field(i).Name, got, i+1)
		}
	}
}
