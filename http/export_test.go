package http

// OpenAPIDocument is the development document, for the tests that check the API's
// requests and answers against it.
var OpenAPIDocument = openAPIDocuments[false]
