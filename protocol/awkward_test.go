package protocol

// awkwardInputs seed the fuzzer and the table tests.
var awkwardInputs = []string{
	`{"sig":{"type":"Buffer","data":[1,2,3]}}`,
	`{"a":{"dataType":"bi","value":"zz"},"a":1}`,
	`{"__proto__":{"dataType":"bi","value":"zz"}}`,
	`{"type":"Buffer","data":"h\u00e9llo"}`,
	`{"type":"Buffer","data":["1"," 2 ","0x10",null,true,[7],{},-1,256.9,"1e3"]}`,
	`{"x":"\ud83d\ude00\ud83d\udc00\ude00"}`,
	`{"\ud800":1,"\uffff":2,"\ud83d\ude00":3,"\ue000":4}`,
	`[1e400,-1e400,1e-400,-0.0,0.1,100,1e21,1e20,123456789012345678901234567890]`,
	`{"dataType":"bb","value":"A Q\nI=D"}`,
	`{"dataType":"u8ab","value":"-_-_"}`,
	`{"dataType":"bi","value":"ff\u00a0"}`,
	`{"dataType":"bi","value":255}`,
	`{"dataType":"bi","value":["ff"]}`,
	`{"dataType":"bi","value":{"dataType":"bb","value":"ZmY="}}`,
	`{"v":{"dataType":"bi","value":{"dataType":"bi","value":"10"}}}`,
	"{\"s\":\"\xff\xfe invalid \xe2\x82 utf8\"}",
	`"just a string"`,
	`[]`,
	`null`,
}
